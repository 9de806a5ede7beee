"""Hostile case text and paths (issue 3 §7): autoescaped text, a URL fetcher bound to the case folder and
the forms, refused photo paths, long unbroken lines that wrap, missing photos and data shown, not failing."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from weasyprint.urls import URLFetchingError

from generator.loading import load_case
from generator.render import RenderError, render_html, render_report
from generator.render_html import FORMS_DIR
from generator.render_safety import FolderFetcher, RefusedResource, resolve_case_file

ROOT = Path(__file__).resolve().parents[1]
SLOPE_DIR = ROOT / "examples" / "slope-collapse"
LONG = "W" * 10_000  # one unbroken 10,000-character "word"
IMG = '<img src="file:///etc/passwd">'
SCRIPT = "<script>alert(1)</script>"


def write_case(folder: Path, edit) -> Path:  # noqa: ANN001
    data = json.loads((SLOPE_DIR / "case.json").read_text(encoding="utf-8"))
    edit(data)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "case.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def _hostile(data: dict) -> None:
    data["case_name"] = f"边坡案{IMG}{SCRIPT}"
    data["incident"]["course"] = LONG
    data["project"]["overview"] = "概况 &amp; <b>粗体</b>"
    del data["cause"]  # missing data: the section stays, marked 未提供
    data["survey"]["photos"][0]["file"] = "photos/not-there.jpg"  # missing file: marker, not failure


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    folder = tmp_path_factory.mktemp("hostile") / "case"
    path = write_case(folder, _hostile)
    shutil.copytree(SLOPE_DIR / "photos", folder / "photos") if (SLOPE_DIR / "photos").is_dir() else None
    loaded = load_case(path)
    html = render_html(loaded).html
    result = render_report(loaded, folder.parent / "out", formats=("pdf",))
    assert result.pdf is not None
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(result.pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    return result.pdf, html, text


def test_case_text_is_escaped_in_html(hostile: tuple[Path, str, str]) -> None:
    _, html, _ = hostile
    assert IMG not in html and SCRIPT not in html and "<b>粗体</b>" not in html
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&amp;amp;" in html  # an entity in case text is shown as typed, not decoded


def test_hostile_text_renders_as_literal_text(hostile: tuple[Path, str, str]) -> None:
    _, _, text = hostile
    flat = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", IMG) in flat and SCRIPT in flat


def test_10000_character_line_wraps_and_is_all_there(hostile: tuple[Path, str, str]) -> None:
    pdf, _, text = hostile
    # It was broken over many lines (not clipped into one overflowing line), across pages, and every
    # character survived: the W-only lines put back together are the original line.
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and set(ln.strip()) == {"W"}]
    assert len(lines) > 50 and max(len(ln) for ln in lines) < 120
    assert "".join(lines) == LONG


def test_missing_photo_file_shows_marker(hostile: tuple[Path, str, str]) -> None:
    _, html, text = hostile
    assert "照片文件缺失" in text and "photos/not-there.jpg" in text


def test_missing_cause_section_renders_with_marker(hostile: tuple[Path, str, str]) -> None:
    _, _, text = hostile
    flat = re.sub(r"\s+", "", text)
    start = flat.index("事故原因调查及分析（五）") if "事故原因调查及分析（五）" in flat else flat.index("（五）事故原因调查及分析")
    assert "未提供" in flat[start:start + 40]


@pytest.mark.parametrize("bad", [
    "../../etc/passwd", "photos/../../../etc/passwd", "/etc/passwd", "http://example.com/p.jpg",
    "https://example.com/p.jpg", "file:///etc/passwd", "data:image/png;base64,AAAA", "C:\\Windows\\win.ini",
])
def test_hostile_photo_paths_are_refused(tmp_path: Path, bad: str) -> None:
    def edit(data: dict) -> None:
        data["survey"]["photos"][1]["file"] = bad

    loaded = load_case(write_case(tmp_path / "case", edit))
    with pytest.raises(RenderError) as info:
        render_report(loaded, tmp_path / "out")
    assert bad in str(info.value) and "P02" in str(info.value)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())  # nothing half-written


def test_symlink_out_of_the_case_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "case" / "photos").mkdir(parents=True)
    (tmp_path / "case" / "photos" / "link.jpg").symlink_to("/etc/passwd")
    with pytest.raises(RenderError, match="link.jpg"):
        resolve_case_file(tmp_path / "case", "photos/link.jpg", "照片 P01 的文件")


def test_fetcher_serves_only_allowed_folders(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("ok", encoding="utf-8")
    fetcher = FolderFetcher([tmp_path])
    assert fetcher.fetch((tmp_path / "ok.txt").as_uri()).read() == b"ok"
    for url in ("file:///etc/passwd", "http://127.0.0.1:9/x.png", "https://example.com/", "ftp://example.com/x",
                (tmp_path / ".." / "x").as_uri(), "file://otherhost/etc/passwd"):
        with pytest.raises(RefusedResource):
            fetcher.fetch(url)


def test_a_firm_template_cannot_reach_outside_either(tmp_path: Path) -> None:
    """Defence in depth: even a (trusted) firm template naming /etc/passwd stops the render with an error."""
    firm = tmp_path / "firm"
    firm.mkdir()
    (firm / "cover.html").write_text('<section class="cover"><img src="file:///etc/passwd"></section>', encoding="utf-8")
    loaded = load_case(SLOPE_DIR / "case.json")
    with pytest.raises(RenderError, match="/etc/passwd"):
        render_report(loaded, tmp_path / "out", formats=("pdf",), templates=firm)
    assert not (tmp_path / "out").exists()


def test_forms_folder_is_served(tmp_path: Path) -> None:
    fetcher = FolderFetcher([tmp_path, FORMS_DIR])
    assert b"--accent" in fetcher.fetch((FORMS_DIR / "styles" / "report.css").as_uri()).read()
    assert issubclass(RefusedResource, BaseException) and not issubclass(RefusedResource, URLFetchingError)
