"""Photos and hostile text in the report (issue 12 §9): every photo decoded and checked by `gongu check`
(5.3.1 d / 9.2, blocking), print copies in the PDF and DOCX while the originals stay byte for byte,
bidi controls refused in file names and shown as codes in text, a 256-character case name in the DOCX."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from case_edits import SLOPE, slope
from docx import Document
from PIL import Image
from typer.testing import CliRunner

from generator.loading import CaseFileError, load_case
from generator.photos import MAX_PIXELS, PRINT_LONG_SIDE, PhotoError, inspect_photo, print_copy
from generator.render import render_html, render_report
from gongu.cli.app import app

runner = CliRunner()
JUNK = b"JUNK-AFTER-EOI-" * 4096  # 60 KB appended after the JPEG's end-of-image marker
RLO = "\u202e"


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares `width`×`height` pixels (IHDR) with no picture data: enough for a size check."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def jpeg(width: int, height: int, orientation: int | None = None) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, width // 2, height // 4))  # a blue block top-left: shows rotation
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(out, format="JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def case_folder(tmp_path: Path, edit=None) -> Path:  # noqa: ANN001
    folder = tmp_path / "case"
    shutil.copytree(SLOPE.parent / "photos", folder / "photos")
    data = slope()
    if edit:
        edit(data)
    import simplejson

    (folder / "case.json").write_text(simplejson.dumps(data, use_decimal=True, ensure_ascii=False), encoding="utf-8")
    return folder / "case.json"


def check_json(case: Path, *args: str) -> tuple[int, list[dict]]:
    result = runner.invoke(app, ["check", str(case), "--json", *args])
    return result.exit_code, json.loads(result.output)["findings"]


# ─── gongu check: every photo decoded (5.3.1 d, 9.2) ───

def test_5_3_1_missing_photo_file_blocks_check_and_issue(tmp_path: Path) -> None:
    case = case_folder(tmp_path)
    (case.parent / "photos" / "P02.jpg").unlink()
    code, findings = check_json(case)
    assert code == 1
    (hit,) = [f for f in findings if f["rule"] == "record.photo_file"]
    assert hit["severity"] == "blocking" and hit["clause"] == "5.3.1"
    assert hit["path"] == "$.survey.photos[1].file" and "照片文件缺失" in hit["message"]
    issued = runner.invoke(app, ["issue", str(case), "-o", str(tmp_path / "out")])
    assert issued.exit_code == 1 and "P02" in issued.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").glob("*.pdf"))


@pytest.mark.parametrize(("content", "expect"), [
    (png_header(20_000, 20_000), "百万像素"),  # 400 MP: Pillow's bomb guard, refused not dropped
    (png_header(12_000, 10_000), "超过上限 100 百万像素"),  # 120 MP: between our limit and Pillow's
    (b"not an image at all" * 100, "无法识别"),
    (b"GIF89a" + b"\x01\x00\x01\x00\x00\x00\x00;", "无法识别"),
])
def test_5_3_1_unusable_photo_is_a_blocking_finding(tmp_path: Path, content: bytes, expect: str) -> None:
    case = case_folder(tmp_path)
    (case.parent / "photos" / "P03.jpg").write_bytes(content)
    code, findings = check_json(case)
    hits = [f for f in findings if f["rule"] == "record.photo_file"]
    assert code == 1 and len(hits) == 1 and expect in hits[0]["message"], hits


def test_gif_and_truncated_jpeg_are_refused(tmp_path: Path) -> None:
    gif = tmp_path / "a.jpg"
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    with pytest.raises(PhotoError, match="只接受 JPEG 或 PNG"):
        inspect_photo(gif)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(jpeg(400, 300)[:2000])
    with pytest.raises(PhotoError, match="无法完整解码"):
        inspect_photo(cut)
    assert MAX_PIXELS == 100_000_000


def test_examples_photos_pass_the_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.peoplekit import people_home

    people_home(tmp_path / "home", monkeypatch)  # check shows unregistered reviewers, as issue refuses them
    for case in sorted((SLOPE.parents[1]).glob("*/case.json")):
        day = json.loads(case.read_text(encoding="utf-8"))["report"]["issued_on"]  # sealed on its own date
        code, findings = check_json(case, "--today", day)
        assert code == 0 and not [f for f in findings if f["rule"] == "record.photo_file"], (case, findings)


# ─── print copies: resized, upright, re-encoded; originals untouched ───

def test_print_copy_is_upright_resized_and_drops_trailing_junk(tmp_path: Path) -> None:
    original = tmp_path / "big.jpg"
    # Stored 3000 wide × 1500 high, EXIF orientation 6 (rotate 90° clockwise to view): upright 1500 × 3000.
    original.write_bytes(jpeg(3000, 1500, orientation=6) + JUNK)
    before = hashlib.sha256(original.read_bytes()).hexdigest()
    data, mime = print_copy(original)
    assert mime == "image/jpeg" and JUNK[:30] not in data
    with Image.open(io.BytesIO(data)) as copy:
        assert copy.size == (1000, PRINT_LONG_SIDE)  # 1500 × 3000 scaled by 2000 / 3000
        assert 0x0112 not in copy.getexif()  # orientation applied, not left for the viewer
        # The blue block was top-left of the stored image; rotated 90° clockwise it is top-right.
        assert copy.getpixel((950, 50))[2] > 150 and copy.getpixel((50, 50))[0] > 150
    assert hashlib.sha256(original.read_bytes()).hexdigest() == before  # the original is never touched
    assert print_copy(original) == (data, mime)  # deterministic: same file, same bytes


def test_report_embeds_print_copy_not_the_junk_and_shows_unusable_photos(tmp_path: Path) -> None:
    case = case_folder(tmp_path)
    photos = case.parent / "photos"
    (photos / "P01.jpg").write_bytes(jpeg(2400, 1800) + JUNK)
    (photos / "P04.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    original = hashlib.sha256((photos / "P01.jpg").read_bytes()).hexdigest()
    result = render_report(load_case(case), tmp_path / "out")
    pdf = result.pdf.read_bytes()
    assert JUNK[:30] not in pdf  # the trailing junk of P01 is not carried into the PDF
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(result.pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "照片无法显示" in text and "photos/P04.jpg" in text  # shown, not silently dropped
    doc = Document(str(result.docx))  # an unreadable image no longer crashes the DOCX
    paragraphs = [p.text for p in doc.paragraphs]
    assert any(p.startswith("照片无法显示：photos/P04.jpg") for p in paragraphs)
    assert len(doc.inline_shapes) == 4  # the four good photos, as print copies
    assert all(shape.width == doc.inline_shapes[0].width for shape in doc.inline_shapes)
    assert hashlib.sha256((photos / "P01.jpg").read_bytes()).hexdigest() == original


# ─── bidi controls and hostile names ───

def test_bidi_control_in_photo_file_name_is_refused_by_validate(tmp_path: Path) -> None:
    def edit(data: dict) -> None:
        data["survey"]["photos"][0]["file"] = f"photos/P01{RLO}gpj.exe"

    case = case_folder(tmp_path, edit)
    with pytest.raises(CaseFileError) as info:
        load_case(case)
    (problem,) = info.value.problems
    assert problem.path == "$.survey.photos[0].file" and "U+202E" in problem.message
    assert RLO not in str(problem.value) and "〔U+202E〕" in str(problem.value)
    result = runner.invoke(app, ["validate", str(case)])
    assert result.exit_code == 2 and "U+202E" in result.output and "Traceback" not in result.output


def test_bidi_control_in_free_text_is_flagged_and_shown_as_a_code(tmp_path: Path) -> None:
    def edit(data: dict) -> None:
        data["incident"]["course"] = f"坡体滑移{RLO}gnol m 02"

    case = case_folder(tmp_path, edit)
    code, findings = check_json(case)
    (hit,) = [f for f in findings if f["rule"] == "text.bidi_controls"]
    assert hit["path"] == "$.incident.course" and hit["severity"] == "warning" and "U+202E" in hit["message"]
    html = render_html(load_case(case)).html
    assert RLO not in html and "坡体滑移〔U+202E〕gnol m 02" in re.sub(r"<[^>]+>", "", html)


def test_256_character_case_name_renders_to_docx(tmp_path: Path) -> None:
    name = "边坡" * 128  # 256 characters: one past the Word core-property limit

    def edit(data: dict) -> None:
        data["case_name"] = name

    result = render_report(load_case(case_folder(tmp_path, edit)), tmp_path / "out", formats=("docx",))
    doc = Document(str(result.docx))
    assert len(doc.core_properties.subject) == 255 and doc.core_properties.subject.endswith("…")
    assert any(name in "".join(c.text for c in row.cells) for t in doc.tables for row in t.rows)
