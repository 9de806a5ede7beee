"""The check code of an issued survey report (issue 30 items 1–2): drawn at issuance, recorded with it, printed on
the cover as text and as a QR code of the public check address and on every page's footer, found again by
`gongu verify`. Real renderer, real demo signer and loopback TSA; the QR code is read back from a page image."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sealkit import PASSPHRASE, World

from generator.check_code import (
    CODE_PATTERN,
    DocumentCodes,
    check_url,
    code_in_pdf,
    code_in_text,
    grouped,
    new_check_code,
    normalize_check_code,
)
from generator.clock import FixedClock
from generator.types import SHANGHAI

# A firm's address with a trailing slash: the QR code carries it without a doubled one.
PUBLIC_URL = "https://check.shuan-gonggu.example/"
PUBLIC = "https://check.shuan-gonggu.example"
FIRST = datetime(2025, 9, 5, 15, 0, tzinfo=SHANGHAI)
LATER = datetime(2025, 9, 20, 10, 0, tzinfo=SHANGHAI)
PRINTED = re.compile(r"校验码：([0-9A-Z]{4}(?:-[0-9A-Z]{4}){4})")


@dataclass
class Issued:
    home: Path
    case_file: Path
    out: Path
    first: dict[str, Any]  # the issuance entries as recorded in the case file
    reissue: dict[str, Any]
    unsealed: dict[str, Any]
    unsealed_out: Path


def _review_round(case_file: Path, day: str) -> None:
    """A fresh three-level approval after the first issuance (a reissue needs one), by the registered reviewers."""
    data = json.loads(case_file.read_text(encoding="utf-8"))
    data["reviews"] += [{"level": level, "reviewer": who, "at": f"{day}T{hour}:00:00+08:00", "decision": "approve"}
                        for level, who, hour in (("proofread", "赵丽", "09"), ("recheck", "孙立军", "10"),
                                                 ("approve", "刘建国", "11"))]
    case_file.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Issued]:
    from gongu.pipeline.issuing import issue_case
    from gongu.pipeline.sealing import ConfiguredSigner
    from gongu.settings import load_settings

    base = tmp_path_factory.mktemp("check-code")
    world = World(base / "world")
    try:
        home = base / "home"
        home.mkdir()
        (home / "gongu.toml").write_text(world.toml() + f'[web]\npublic_url = "{PUBLIC_URL}"\n', encoding="utf-8")
        settings = load_settings(home)
        signer = ConfiguredSigner(world.config(), passphrase=lambda role, name, path: PASSPHRASE)
        shutil.copytree(world.case_path.parent, base / "case")
        case_file = base / "case" / "case.json"
        out = base / "issued"
        issue_case(case_file, signer=signer, out_dir=out, settings=settings, clock=FixedClock(FIRST))
        _review_round(case_file, "2025-09-19")
        issue_case(case_file, signer=signer, out_dir=out, settings=settings, clock=FixedClock(LATER),
                   reissue_reason="更正L4单价")
        first, reissue = json.loads(case_file.read_text(encoding="utf-8"))["issuances"]
        shutil.copytree(world.case_path.parent, base / "unsealed-case")
        unsealed_file = base / "unsealed-case" / "case.json"
        issue_case(unsealed_file, signer=None, unsealed=True, out_dir=base / "unsealed", settings=settings,
                   clock=FixedClock(FIRST))
        (unsealed,) = json.loads(unsealed_file.read_text(encoding="utf-8"))["issuances"]
        yield Issued(home, case_file, out, first, reissue, unsealed, base / "unsealed")
    finally:
        world.close()


def pages_text(pdf: Path) -> list[str]:
    """Each page's text (pdftotext, form feed between pages)."""
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True)
    return out.stdout.split("\f")[:-1]


def page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))  # type: ignore[union-attr]


def qr_texts(pdf: Path, tmp: Path) -> list[str]:
    """The QR codes zxing-cpp reads on page 1 rendered at 150 dpi, as a phone would see a printout."""
    import zxingcpp
    from PIL import Image

    stem = tmp / f"page-{pdf.stem}"
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],
                   check=True, capture_output=True)
    return [r.text for r in zxingcpp.read_barcodes(Image.open(f"{stem}.png"))]


def test_codes_are_recorded_for_the_issue_and_the_reissue_and_differ(issued: Issued) -> None:
    codes = [issued.first.get("check_code"), issued.reissue.get("check_code")]
    assert all(c and re.fullmatch(CODE_PATTERN, c) for c in codes), codes
    assert codes[0] != codes[1]  # R1 is another document: a code of its own
    assert issued.reissue["number"] == "SA-GC-20250905-017R1"


def test_an_unsealed_copy_gets_no_code(issued: Issued, tmp_path: Path) -> None:
    assert issued.unsealed["sealed"] is False and "check_code" not in issued.unsealed
    pdf = issued.unsealed_out / issued.unsealed["pdf_file"]
    text = "".join(pages_text(pdf))
    assert "未签章副本" in text and "校验码" not in text
    assert code_in_pdf(pdf.read_bytes()) is None
    assert qr_texts(pdf, tmp_path) == []


@pytest.mark.parametrize("which", ["first", "reissue"])
def test_the_code_is_on_the_cover_and_on_every_page(issued: Issued, which: str) -> None:
    entry = getattr(issued, which)
    pdf = issued.out / entry["pdf_file"]
    pages = pages_text(pdf)
    assert len(pages) == page_count(pdf) > 10
    line = f"校验码：{grouped(entry['check_code'])}"  # e.g. 校验码：ABCD-EFGH-JKMN-PQRS-TVWX
    assert len(line) == 4 + 24
    for n, text in enumerate(pages, start=1):
        assert PRINTED.findall(text) == [grouped(entry["check_code"])] * (2 if n == 1 else 1), n  # cover: block + footer
    # the page number footer is still there beside it
    assert "第 2 页 共" in pages[1]


@pytest.mark.parametrize("which", ["first", "reissue"])
def test_the_qr_code_on_the_cover_reads_as_the_public_check_address(issued: Issued, which: str, tmp_path: Path) -> None:
    entry = getattr(issued, which)
    expected = f"{PUBLIC}/v/{entry['check_code']}"  # [web] public_url of the home, without its trailing slash
    assert qr_texts(issued.out / entry["pdf_file"], tmp_path) == [expected]


def test_code_in_pdf_finds_the_code_in_the_sealed_report(issued: Issued) -> None:
    for entry in (issued.first, issued.reissue):
        assert code_in_pdf((issued.out / entry["pdf_file"]).read_bytes()) == entry["check_code"]
    assert code_in_pdf(b"not a pdf") is None


def test_the_word_copy_carries_the_code_in_its_footer_and_the_qr_picture(issued: Issued) -> None:
    import zxingcpp
    from docx import Document
    from PIL import Image

    entry = issued.first
    path = issued.out / entry["docx_file"]
    doc = Document(str(path))
    line = f"校验码：{grouped(entry['check_code'])}"
    section = doc.sections[0]
    # the cover (its own first-page footer) and every other page
    assert line in [p.text for p in section.first_page_footer.paragraphs]
    assert line in [p.text for p in section.footer.paragraphs]
    assert doc.paragraphs[1].text == line
    (embed,) = doc.paragraphs[0]._p.xpath(".//a:blip/@r:embed")  # noqa: SLF001 — the first paragraph's picture
    image = Image.open(io.BytesIO(doc.part.related_parts[embed].blob))
    (alt,) = doc.paragraphs[0]._p.xpath(".//wp:docPr/@descr")  # noqa: SLF001
    assert alt == f"校验二维码：{PUBLIC}/v/{entry['check_code']}"
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [f"{PUBLIC}/v/{entry['check_code']}"]


def test_gongu_verify_prints_the_code_and_its_public_page(issued: Issued) -> None:
    env = {**os.environ, "GONGU_HOME": str(issued.home)}
    entry = issued.reissue
    result = subprocess.run([sys.executable, "-m", "gongu", "verify", str(issued.out / entry["pdf_file"])],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    code = entry["check_code"]
    assert f"校验码：{grouped(code)}（公开校验页：{PUBLIC}/v/{code}）" in result.stdout.replace("\n", "")
    as_json = subprocess.run([sys.executable, "-m", "gongu", "verify", "--json", str(issued.out / entry["pdf_file"])],
                             capture_output=True, text=True, env=env, timeout=120)
    data = json.loads(as_json.stdout)
    assert (data["check_code"], data["check_url"]) == (code, f"{PUBLIC}/v/{code}")
    unsealed = subprocess.run([sys.executable, "-m", "gongu", "verify",
                               str(issued.unsealed_out / issued.unsealed["pdf_file"])],
                              capture_output=True, text=True, env=env, timeout=120)
    assert "文件上没有校验码" in unsealed.stdout


def test_same_case_and_codes_render_byte_identical_files(tmp_path: Path) -> None:
    from sealkit import EXAMPLE

    from generator.loading import load_case
    from generator.render import render_report

    loaded = load_case(EXAMPLE)
    codes = DocumentCodes(PUBLIC, {"report": "ABCD0123EFGH4567JKMN"})
    a = render_report(loaded, tmp_path / "a", codes=codes)
    b = render_report(loaded, tmp_path / "b", codes=codes)
    other = render_report(loaded, tmp_path / "c", formats=("pdf",), codes=DocumentCodes(PUBLIC, {"report": new_check_code()}))
    assert a.pdf and b.pdf and a.docx and b.docx and other.pdf
    assert a.pdf.read_bytes() == b.pdf.read_bytes()
    assert a.docx.read_bytes() == b.docx.read_bytes()
    assert a.pdf.read_bytes() != other.pdf.read_bytes()
    assert code_in_pdf(a.pdf.read_bytes()) == "ABCD0123EFGH4567JKMN"


def test_codes_that_are_not_codes_never_reach_a_document() -> None:
    with pytest.raises(ValueError, match="report"):
        DocumentCodes(PUBLIC, {"report": 'ABCD"}</style><script>'})


def test_printed_codes_are_read_back_as_typed() -> None:
    code = "ABCD0123EFGH4567JKMN"
    assert code_in_text("…\n校验码：ABCD-0123-EFGH-4567-JKMN\n第 1 页") == code
    assert code_in_text("校验码: ABCD - 0123 - EFGH - 4567 - JKMN") == code  # half-width colon, spaced groups
    assert code_in_text("校验码：ABCD-0123") is None  # two groups are not a code
    assert code_in_text("报告编号：SA-GC-20250905-017") is None
    assert normalize_check_code(grouped(code).lower()) == code
    assert check_url(PUBLIC_URL, code) == f"{PUBLIC}/v/{code}"


# A firm's own report.html: a cover-like first page that knows nothing of check codes (the block goes into the
# free top-left corner), and one that reserves the block's place in its own header table.
FIRM_COVER = ("<h1 style='text-align: center; margin-top: 40mm'>{{ doc.title }}</h1>"
              "<p style='break-before: page'>第二页</p>")
FIRM_SLOT = ("<table style='width: 100%'><tr><td style='width: 45mm'><div id=\"gongu-check-code\"></div></td>"
             "<td><h1 style='text-align: left'>{{ doc.title }}</h1></td></tr></table>"
             "<p style='break-before: page'>第二页</p>")


@pytest.mark.parametrize("body", [FIRM_COVER, FIRM_SLOT], ids=["corner", "slot"])
def test_a_firms_own_template_gets_the_code_and_qr(tmp_path: Path, body: str) -> None:
    from sealkit import EXAMPLE

    from generator.adjust import adjust
    from generator.loading import load_case
    from generator.render import render_report
    from generator.render_codes import with_code_html
    from generator.render_html import build_html

    firm = tmp_path / "firm"
    firm.mkdir()
    (firm / "report.html").write_text('<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
                                      "<style>@page { size: A4; margin: 20mm }</style></head>\n"
                                      f"<body>{body}</body></html>", encoding="utf-8")
    loaded = load_case(EXAMPLE)
    code = "7QKM0W2XZ3RT9VB4HJ5N"
    result = render_report(loaded, tmp_path / "out", formats=("pdf",), templates=firm,
                           codes=DocumentCodes(PUBLIC_URL, {"report": code}))
    assert result.pdf and result.pages == 2
    pages = pages_text(result.pdf)
    assert [PRINTED.findall(p) for p in pages] == [[grouped(code)] * 2, [grouped(code)]]
    assert code_in_pdf(result.pdf.read_bytes()) == code
    assert qr_texts(result.pdf, tmp_path) == [f"{PUBLIC}/v/{code}"]
    html = with_code_html(build_html(loaded, adjust(loaded.case), firm), code, PUBLIC_URL).html
    assert html.count(f'aria-label="校验二维码：{PUBLIC}/v/{code}"') == 1
    assert 'id="gongu-check-code"' not in html  # the slot is replaced by the block, laid out in the flow there
    assert ('class="gongu-check-code" style="position: absolute;' in html) is (body == FIRM_COVER)
