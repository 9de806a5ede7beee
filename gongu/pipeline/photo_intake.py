"""A photo or scan uploaded from a phone, ready to store in the case folder: checked as the survey
photo rule checks it (5.3.1 d: JPEG or PNG, within the byte and pixel limits, every byte decodable),
its upright size and the time it was taken (EXIF), and a safe name under `photos/`.

What is stored: the original bytes, as a folder upload stores them — the archive keeps originals byte for
byte and the renderer makes its own print copy (generator/photos.py print_copy: orientation applied,
longest side 2000 px) when the report is rendered, so re-encoding here would only lose detail. A JPEG beyond
the renderer's pixel limit (100 MP, which the quality review refuses) is not refused but stored as the
renderer's re-encoding of it at half or a quarter of its size, upright; a PNG beyond it is refused (it has
no cheap reduced decode)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import PurePosixPath

from PIL import ExifTags, Image, ImageOps

from generator.photos import MAX_PIXELS, PhotoError, decode_photo, encode_copy, open_photo
from generator.problems import Problem
from gongu.pipeline.upload_staging import MAX_FILE_BYTES, UploadRefused

PHOTO_FOLDER = "photos"
# Pillow itself refuses more than twice its MAX_IMAGE_PIXELS (about 179 MP) before decoding: the ceiling
# of what a reduced decode is tried on.
_OPEN_CEILING = 2 * (Image.MAX_IMAGE_PIXELS or MAX_PIXELS)
_EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png"}
_SHANGHAI = timezone(timedelta(hours=8))
# Orientations 5–8 turn the picture a quarter: width and height swap once it is shown upright.
_QUARTER_TURNS = {5, 6, 7, 8}
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


@dataclass(frozen=True)
class PreparedPhoto:
    data: bytes  # what to store
    extension: str  # ".jpg" or ".png", from what the bytes are
    taken_at: str | None  # "YYYY-MM-DDTHH:MM:SS", Beijing time when the camera gave its offset
    width: int  # upright, as the report shows it
    height: int
    reencoded: bool  # False: the uploaded bytes unchanged


def _refused(filename: str, message: str, value: object = None) -> UploadRefused:
    return UploadRefused([Problem(filename, "上传的照片", message, value)])


def prepare_photo(data: bytes, filename: str) -> PreparedPhoto:
    """The photo to store, or UploadRefused naming the file (as the upload names a file) with the reason the
    quality review would give for it."""
    if len(data) > MAX_FILE_BYTES:
        raise _refused(filename, f"文件超过 {MAX_FILE_BYTES // (1 << 20)} MiB", len(data))
    try:
        with open_photo(data, max_pixels=_OPEN_CEILING) as image:
            fmt = image.format or ""
            width, height = image.size
            exif = image.getexif()
            taken_at = _taken_at(exif)
            if width * height <= MAX_PIXELS:
                decode_photo(image)  # every byte read, at the print size's memory
                if exif.get(ExifTags.Base.Orientation) in _QUARTER_TURNS:
                    width, height = height, width
                return PreparedPhoto(data, _EXTENSIONS[fmt], taken_at, width, height, reencoded=False)
            if fmt != "JPEG":
                raise PhotoError(f"照片 {width}×{height} 像素（{width * height / 1e6:.1f} 百万像素），超过上限 "
                                 f"{MAX_PIXELS // 1_000_000} 百万像素 (too many pixels)")
            scale = 2  # a JPEG decodes at 1/2, 1/4 or 1/8 of its size for the cost of that size
            while -(-width // scale) * -(-height // scale) > MAX_PIXELS:
                scale *= 2
            upright = ImageOps.exif_transpose(decode_photo(image, (width // scale, height // scale)))
            stored, _mime = encode_copy(upright, fmt)
            return PreparedPhoto(stored, ".jpg", taken_at, upright.width, upright.height, reencoded=True)
    except PhotoError as exc:
        raise _refused(filename, str(exc)) from None


def _taken_at(exif: Image.Exif) -> str | None:
    """EXIF DateTimeOriginal (else DateTime) as the case file writes times; converted to Beijing time when
    the camera recorded its offset (OffsetTimeOriginal), else taken as the camera's local time."""
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    raw, offset = sub.get(ExifTags.Base.DateTimeOriginal), sub.get(ExifTags.Base.OffsetTimeOriginal)
    if not raw:
        raw, offset = exif.get(ExifTags.Base.DateTime), sub.get(ExifTags.Base.OffsetTime)
    if not isinstance(raw, str):
        return None
    try:
        taken = datetime.strptime(raw.strip("\x00 "), "%Y:%m:%d %H:%M:%S")  # "0000:00:00 00:00:00": unset
    except ValueError:
        return None
    if isinstance(offset, str) and (m := re.fullmatch(r"([+-])(\d\d):(\d\d)", offset.strip("\x00 "))):
        delta = timedelta(hours=int(m[2]), minutes=int(m[3])) * (1 if m[1] == "+" else -1)
        taken = taken.replace(tzinfo=timezone(delta)).astimezone(_SHANGHAI).replace(tzinfo=None)
    return taken.isoformat(timespec="seconds")


def photo_name(existing: set[str], original: str, extension: str | None = None) -> str:
    """A relative path under photos/ for an uploaded photo: ASCII letters, digits, '-', '_' and '.', no
    hidden or reserved name, the original's extension (or `extension`), unique among `existing` also
    where case is ignored (the downloaded folder may be opened on Windows or macOS)."""
    base = PurePosixPath(original.replace("\\", "/")).name
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = ext, ""
    ext = extension or (f".{ext.lower()}" if re.fullmatch(r"[A-Za-z0-9]{1,8}", ext) else "")
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", ascii_stem).strip("-_")[:60].strip("-_") or "photo"
    if stem.upper() in _WINDOWS_RESERVED:
        stem = f"photo-{stem}"
    taken = {name.casefold() for name in existing}
    candidate, n = f"{PHOTO_FOLDER}/{stem}{ext}", 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{PHOTO_FOLDER}/{stem}-{n}{ext}"
    return candidate
