"""Photos uploaded from a phone (gongu/pipeline/photo_intake.py): checked as the survey photo rule checks
them (5.3.1 d), the time taken from EXIF, the upright size, originals kept, a safe unique name. Every
image is made here by Pillow; the renderer's own print copy (generator/photos.py) shows what the report
gets from what is stored."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from generator.photos import print_copy
from gongu.pipeline.photo_intake import photo_name, prepare_photo
from gongu.pipeline.upload_staging import MAX_FILE_BYTES, UploadRefused, clean_name

RED, BLUE = (220, 0, 0), (0, 0, 220)


def jpeg(image: Image.Image, exif: Image.Exif | None = None) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


def exif_with(*, original: str | None = None, offset: str | None = None, plain: str | None = None,
              orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    if plain:
        exif[ExifTags.Base.DateTime] = plain
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    if original:
        sub[ExifTags.Base.DateTimeOriginal] = original
    if offset:
        sub[ExifTags.Base.OffsetTimeOriginal] = offset
    return exif


def refusal(data: bytes, filename: str) -> tuple[str, str, str]:
    with pytest.raises(UploadRefused) as info:
        prepare_photo(data, filename)
    [problem] = info.value.problems
    return problem.path, problem.title, problem.message


def test_the_time_taken_comes_from_exif_date_time_original() -> None:
    data = jpeg(Image.new("RGB", (64, 48), RED),
                exif_with(original="2025:07:12 14:45:00", plain="2025:07:20 09:00:00"))
    photo = prepare_photo(data, "IMG_0001.JPG")
    assert (photo.taken_at, photo.width, photo.height, photo.extension) == ("2025-07-12T14:45:00", 64, 48, ".jpg")
    assert photo.data == data and not photo.reencoded  # the original, byte for byte


def test_without_date_time_original_the_file_s_date_time_counts() -> None:
    photo = prepare_photo(jpeg(Image.new("RGB", (8, 8)), exif_with(plain="2025:07:20 09:00:00")), "a.jpg")
    assert photo.taken_at == "2025-07-20T09:00:00"


def test_a_camera_offset_is_turned_into_beijing_time() -> None:
    # 08:45 at UTC+02:00 is 06:45 UTC, 14:45 in Beijing (UTC+08:00)
    data = jpeg(Image.new("RGB", (8, 8)), exif_with(original="2025:07:12 08:45:00", offset="+02:00"))
    assert prepare_photo(data, "a.jpg").taken_at == "2025-07-12T14:45:00"


@pytest.mark.parametrize("value", ["0000:00:00 00:00:00", "2025-07-12 14:45", "    "])
def test_an_unset_or_garbled_exif_time_is_no_time(value: str) -> None:
    assert prepare_photo(jpeg(Image.new("RGB", (8, 8)), exif_with(original=value)), "a.jpg").taken_at is None


def test_a_png_without_exif_has_no_time() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (30, 20), (0, 0, 0, 0)).save(out, "PNG")
    photo = prepare_photo(out.getvalue(), "屏幕截图.png")
    assert (photo.taken_at, photo.extension, photo.width, photo.height) == (None, ".png", 30, 20)


def test_orientation_6_is_shown_turned_a_quarter_clockwise(tmp_path: Path) -> None:
    """A phone held upright writes its sensor's landscape pixels and EXIF orientation 6 ("turn 90°
    clockwise to view"): the stored file keeps them, its size is given upright, and the report's copy is
    turned — the sensor's top rows (red) end up on the right."""
    raw = Image.new("RGB", (300, 200), BLUE)
    raw.paste(RED, (0, 0, 300, 100))  # the top half of the sensor image
    data = jpeg(raw, exif_with(orientation=6))
    photo = prepare_photo(data, "upright.jpg")
    assert (photo.width, photo.height) == (200, 300) and photo.data == data
    stored = tmp_path / "upright.jpg"
    stored.write_bytes(photo.data)
    printed = Image.open(io.BytesIO(print_copy(stored)[0])).convert("RGB")
    assert printed.size == (200, 300)
    right, left = printed.getpixel((175, 150)), printed.getpixel((25, 150))
    assert right[0] > 180 and right[2] < 60  # red
    assert left[2] > 180 and left[0] < 60  # blue


def test_a_6000_by_4000_photo_is_stored_whole_and_printed_at_2000_px(tmp_path: Path) -> None:
    """24 MP is within the renderer's 100 MP: the original is kept (the archive keeps originals, the
    renderer re-encodes for print when rendering), the report's copy is 2000 × 1333 (4000 × 2000 / 6000)."""
    data = jpeg(Image.linear_gradient("L").resize((6000, 4000)).convert("RGB"))
    photo = prepare_photo(data, "DSC_6000.jpg")
    assert (photo.width, photo.height, photo.reencoded) == (6000, 4000, False) and photo.data == data
    stored = tmp_path / "DSC_6000.jpg"
    stored.write_bytes(photo.data)
    assert Image.open(io.BytesIO(print_copy(stored)[0])).size == (2000, 1333)


def test_a_jpeg_beyond_the_renderer_s_pixel_limit_is_stored_at_half_size() -> None:
    """10 100 × 10 000 is 101 MP, above the 100 MP the quality review refuses: it is stored as the renderer
    re-encodes, decoded at half scale (5 050 × 5 000), the time taken still read from its EXIF."""
    data = jpeg(Image.new("L", (10_100, 10_000), 128), exif_with(original="2025:07:12 14:45:00"))
    photo = prepare_photo(data, "108mp.jpg")
    assert (photo.width, photo.height, photo.reencoded, photo.extension) == (5050, 5000, True, ".jpg")
    assert photo.taken_at == "2025-07-12T14:45:00"
    stored = Image.open(io.BytesIO(photo.data))
    assert (stored.format, stored.size) == ("JPEG", (5050, 5000))


def test_a_png_beyond_the_pixel_limit_is_refused() -> None:
    out = io.BytesIO()
    Image.new("1", (10_100, 10_000)).save(out, "PNG")
    path, title, message = refusal(out.getvalue(), "scan.png")
    assert (path, title) == ("scan.png", "上传的照片") and "超过上限 100 百万像素" in message


def test_a_text_file_named_jpg_is_refused_naming_the_file() -> None:
    assert refusal("现场记录：边坡坍塌".encode(), "现场.jpg") == (
        "现场.jpg", "上传的照片", "无法识别的图像文件，须为 JPEG 或 PNG (not a readable image)")


def test_other_formats_and_cut_files_are_refused() -> None:
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, "GIF")
    assert refusal(gif.getvalue(), "a.gif")[2].startswith("照片格式为 GIF，只接受 JPEG 或 PNG")
    whole = jpeg(Image.linear_gradient("L").resize((400, 400)).convert("RGB"))
    assert refusal(whole[: len(whole) // 2], "cut.jpg")[2].startswith("照片文件已损坏")


def test_a_file_over_the_upload_limit_is_refused_unread() -> None:
    assert refusal(bytes(MAX_FILE_BYTES + 1), "big.jpg") == ("big.jpg", "上传的照片", "文件超过 64 MiB")


@pytest.mark.parametrize(("existing", "original", "expected"), [
    (set(), "P01.jpg", "photos/P01.jpg"),
    ({"photos/P01.jpg"}, "p01.JPG", "photos/p01-2.jpg"),  # unique also where case is ignored
    ({"photos/photo.jpg", "photos/photo-2.jpg"}, "现场照片.jpg", "photos/photo-3.jpg"),
    (set(), "坡面1.jpg", "photos/1.jpg"),
    (set(), "../../etc/passwd", "photos/passwd"),
    (set(), "C:\\Users\\王\\IMG 2025:07.JPG", "photos/IMG-2025-07.jpg"),
    (set(), ".hidden.png", "photos/hidden.png"),
    (set(), "CON.jpg", "photos/photo-CON.jpg"),
    (set(), "Café.jpg", "photos/Cafe.jpg"),
    (set(), "IMG_0001.j\u202egp", "photos/IMG_0001"),  # a bidi control in the extension: no extension kept
])
def test_photo_names_are_safe_unique_and_keep_the_extension(existing: set[str], original: str, expected: str) -> None:
    name = photo_name(existing, original)
    assert name == expected
    assert clean_name(name) == name and name.isascii()
