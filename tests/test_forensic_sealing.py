"""Sealing, issuing and verifying the documents of a forensic appraisal (issue 13 §3): the institution's
司法鉴定专用章 on every document, the appraisers' signatures on the 司法鉴定意见书 (≥ 2, 通则 Art 19) and on
a 补正书 (Art 41). Real pyHanko signatures, a real demo PKI and loopback TSA, real validation."""

from __future__ import annotations

import copy
import html
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigFieldSpec, append_signature_field

from generator.clock import FixedClock
from signing.completeness import CompletenessPolicy
from signing.keys import DemoPki, make_demo_pki
from signing.seal import SealError, SigningConfig, seal_report, signature_field_names
from signing.signers import FIRM_FIELD_ALIASES, document_role, document_signers
from signing.tsa import LocalTsa
from signing.verify import verify_issued_report

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "forensic-joint-grade10" / "case.json"
# The example's report.issued_on, 16:00 Beijing time: the day `gongu issue` seals its 意见书 on.
OPINION_DAY = FixedClock(datetime(2026, 5, 29, 16, 0))
PASSPHRASE = b"gongu-demo"
INSTITUTION = "四川蜀正司法鉴定中心"  # the example's institution.name, as written in the case file
APPRAISERS = [("唐志明", "510106012001"), ("邓晓梅", "510109013007")]  # report.signatures, in that order


def example() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def forensic_pdf(case: dict[str, Any], appraiser_fields: int, seal_field: str = "institution-seal",
                 person_field: str = "appraiser-{}") -> bytes:
    """A small PDF/A-3b document of the case, with the case file embedded and empty signature fields, as
    the renderer makes them (`appraiser-1` … for the appraisers, `institution-seal`); a document rendered
    before fields were named by role had `handler-1` … and `firm-seal` or `firm`."""
    from weasyprint import HTML, Attachment

    doc = f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>文书</title>
<style>@page {{ size: A4; margin: 20mm }} body {{ font-family: 'Noto Sans CJK SC'; font-size: 11pt }}</style>
</head><body><h1>司法鉴定文书</h1><p>{html.escape(case['case_name'])}</p></body></html>"""
    attachment = Attachment(string=json.dumps(case, ensure_ascii=False), name="case.json", description="案件文件")
    pdf = HTML(string=doc).write_pdf(pdf_variant="pdf/a-3b", attachments=[attachment])
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    for i in range(appraiser_fields):
        append_signature_field(writer, SigFieldSpec(person_field.format(i + 1), on_page=-1,
                                                    box=(60, 300 - 60 * i, 260, 350 - 60 * i)))
    append_signature_field(writer, SigFieldSpec(seal_field, on_page=-1, box=(380, 200, 480, 300)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@dataclass
class Forensic:
    root: Path
    pki: DemoPki
    tsa: LocalTsa

    def config(self, **overrides: Any) -> SigningConfig:
        values: dict[str, Any] = {"firm_p12": self.pki.firm_p12, "handlers": dict(self.pki.handler_p12),
                                  "tsa_url": self.tsa.url, "trust_roots": (self.pki.root_pem,),
                                  "crls": (self.pki.crl,)}
        values.update(overrides)
        return SigningConfig(**values)

    def seal(self, name: str, pdf: bytes, *, case: dict[str, Any] | None = None, role: str | None = None,
             **overrides: Any) -> Path:
        source = self.root / f"{name}-unsealed.pdf"
        source.write_bytes(pdf)
        out = self.root / f"{name}.pdf"
        seal_report(source, out, self.config(**overrides), lambda *_: PASSPHRASE, case_raw=case, role=role)
        return out

    def verify(self, pdf: Path, **policy: bool):  # noqa: ANN201 — (VerificationReport, CompletenessReport)
        return verify_issued_report(pdf, [self.pki.root_pem], crls=[self.pki.crl], policy=CompletenessPolicy(**policy))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Forensic]:
    root = tmp_path_factory.mktemp("forensic-seal")
    tsa = LocalTsa(root / "keys").start()  # binds its port first: the certificates name its CRL
    pki = make_demo_pki(root / "keys", INSTITUTION, APPRAISERS, crl_url=tsa.crl_url,
                        seal_purposes={INSTITUTION: "司法鉴定专用章"})
    yield Forensic(root, pki, tsa)
    tsa.stop()


@pytest.fixture(scope="module")
def opinion(world: Forensic) -> Path:
    """The 意见书: the institution's seal, then both appraisers of report.signatures."""
    return world.seal("opinion", forensic_pdf(example(), 2))


@pytest.fixture(scope="module")
def companion(world: Forensic) -> Path:
    """A document the institution seals alone (e.g. the 委托书): only the seal field."""
    return world.seal("companion", forensic_pdf(example(), 0))


# ─────────────────── the seal in the page content: on the cover, across the pages (骑缝章) ───────────────────

MM_PX_100DPI = 100 / 25.4  # pixels per mm in a 100 dpi rendering


@pytest.fixture(scope="module")
def rendered_opinion(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real renderer's 意见书 of example (a): 5 pages of its own and 3 bound attachment pages."""
    from generator.loading import load_case
    from generator.render import render_forensic_document

    doc = render_forensic_document(load_case(EXAMPLE), "opinion", tmp_path_factory.mktemp("opinion"), formats=("pdf",))
    assert doc is not None and doc.pdf is not None and doc.pages == 8
    return doc.pdf


def _cli_home(world: Forensic, base: Path, extra: str) -> dict[str, str]:
    home = base / "home"
    home.mkdir()
    (home / "gongu.toml").write_text(
        "[signing]\n"
        f'firm_p12 = "{world.pki.firm_p12}"\ntsa_url = "{world.tsa.url}"\n'
        f'trust_roots = ["{world.pki.root_pem}"]\ncrls = ["{world.pki.crl}"]\n' + extra +
        "[signing.handlers]\n" + "".join(f'"{n}" = "{p}"\n' for n, p in world.pki.handler_p12.items()),
        encoding="utf-8")
    return {"GONGU_HOME": str(home), "GONGU_FIRM_KEY_PASSPHRASE": "gongu-demo",
            "GONGU_HANDLER_KEY_PASSPHRASE": "gongu-demo"}


@pytest.fixture(scope="module")
def cross_sealed(world: Forensic, rendered_opinion: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 意见书 sealed by `gongu seal` with `[signing] cross_page_seal = true`."""
    from typer.testing import CliRunner

    from gongu.cli.app import app

    base = tmp_path_factory.mktemp("cross")
    env = _cli_home(world, base, "cross_page_seal = true\n")
    unsealed = base / "opinion.pdf"
    unsealed.write_bytes(rendered_opinion.read_bytes())
    result = CliRunner().invoke(app, ["seal", str(unsealed)], env=env)
    assert result.exit_code == 0, result.output
    return base / "opinion-sealed.pdf"


@pytest.fixture(scope="module")
def plain_sealed(world: Forensic, rendered_opinion: Path) -> Path:
    """The same 意见书 sealed without the option."""
    return world.seal("opinion-plain", rendered_opinion.read_bytes())


def _pages(pdf: Path, out: Path) -> list[Any]:
    """Every page rendered at 100 dpi, as RGB images in page order."""
    import subprocess

    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(pdf), str(out / "p")], check=True, capture_output=True)
    return [Image.open(p).convert("RGB") for p in sorted(out.glob("p-*.png"))]


def _red(pixel: tuple[int, int, int]) -> bool:
    r, g, b = pixel
    return r > 150 and g < 110 and b < 110  # seal red (214, 0, 0) at 0.92 over white; the text is blue-black


def _red_columns(page: Any, x0: int, x1: int, y0: int, y1: int) -> set[int]:
    return {x for x in range(x0, x1) for y in range(y0, y1, 2) if _red(page.getpixel((x, y)))}


def _middle_band(page: Any) -> tuple[int, int]:
    """The rows of the cross-page seal: 40 mm centred on the page's height."""
    half = round(20 * MM_PX_100DPI)
    return page.height // 2 - half, page.height // 2 + half


def test_cross_page_seal_puts_one_strip_on_every_page_and_verify_passes(world: Forensic, cross_sealed: Path,
                                                                          tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from gongu.cli.app import app

    env = _cli_home(world, tmp_path, "cross_page_seal = true\n")
    result = CliRunner().invoke(app, ["verify", str(cross_sealed), "--json"], env=env)
    assert result.exit_code == 0, result.output  # every signature intact, valid, no change after the seal
    data = json.loads(result.stdout)
    assert data["complete"] is True
    fields = [s["field"] for s in data["signatures"]]
    assert len(fields) == 3 and fields[0] in FIRM_FIELD_ALIASES  # the institution's seal, then both appraisers

    pages = _pages(cross_sealed, tmp_path / "png")
    assert len(pages) == 8
    # 8 pages ≤ 10: one impression, each page 1/8 of the 40 mm seal = 5 mm ≈ 19.7 px at 100 dpi, at the right edge.
    strip = 5 * MM_PX_100DPI
    for n, page in enumerate(pages, start=1):
        y0, y1 = _middle_band(page)
        inside = _red_columns(page, page.width - round(strip) + 1, page.width, y0, y1)
        # between the strip and the text column (18 mm margin ≈ 71 px): no ink, so the strip is 5 mm, not more
        beside = _red_columns(page, page.width - round(strip) - 40, page.width - round(strip) - 2, y0, y1)
        assert inside, f"page {n}: no seal strip at the right edge"
        assert not beside, f"page {n}: red ink left of the 5 mm strip at x {sorted(beside)[:5]}"


def test_the_strips_side_by_side_make_the_institutions_seal(cross_sealed: Path, tmp_path: Path) -> None:
    """Fanned out, page 1's strip is the seal's leftmost eighth, page 8's its rightmost: put side by side they
    give back the seal drawn from the institution's name (signing/seal_image.py)."""
    from PIL import Image

    from signing.seal_image import draw_seal

    pages = _pages(cross_sealed, tmp_path / "png")
    size = round(40 * MM_PX_100DPI)  # 157 px: the seal's diameter at 100 dpi
    fan = Image.new("RGB", (size, size), "white")
    for i, page in enumerate(pages):
        left, right = round(i * size / 8), round((i + 1) * size / 8)
        y0 = page.height // 2 - size // 2
        fan.paste(page.crop((page.width - (right - left), y0, page.width, y0 + size)), (left, 0))
    seal = draw_seal(INSTITUTION, "司法鉴定专用章").resize((size, size)).convert("RGBA")
    ink = Image.new("RGB", (size, size), "white")
    ink.paste(seal, (0, 0), seal)
    fanned = {(x, y) for x in range(size) for y in range(size) if _red(fan.getpixel((x, y)))}
    drawn = {(x, y) for x in range(size) for y in range(size) if _red(ink.getpixel((x, y)))}
    overlap = len(fanned & drawn) / len(fanned | drawn)
    # 1 would be a perfect match; pixel-rounded strip edges and anti-aliasing at 100 dpi cost some of it.
    assert overlap > 0.7, overlap
    shuffled = Image.new("RGB", (size, size), "white")
    for i, page in enumerate(reversed(pages)):  # the same strips in the wrong order do not make the seal
        left, right = round(i * size / 8), round((i + 1) * size / 8)
        y0 = page.height // 2 - size // 2
        shuffled.paste(page.crop((page.width - (right - left), y0, page.width, y0 + size)), (left, 0))
    wrong = {(x, y) for x in range(size) for y in range(size) if _red(shuffled.getpixel((x, y)))}
    assert len(wrong & drawn) / len(wrong | drawn) < 0.4


def test_without_the_option_no_strip_but_the_cover_and_sign_off_carry_the_seal(world: Forensic, plain_sealed: Path,
                                                                               rendered_opinion: Path,
                                                                               tmp_path: Path) -> None:
    from signing.seal_marks import COVER_SEAL_MM, cover_seal_place

    report, completeness = world.verify(plain_sealed, require_timestamp=True)
    assert report.ok, report.all_problems()
    assert completeness.complete
    sealed = _pages(plain_sealed, tmp_path / "sealed")
    unsealed = _pages(rendered_opinion, tmp_path / "unsealed")
    for n, page in enumerate(sealed, start=1):
        y0, y1 = _middle_band(page)
        assert not _red_columns(page, page.width - 60, page.width, y0, y1), f"page {n}: a strip without the option"
    # The cover: the renderer reserves the box (named destination cover-seal) and draws nothing in it; sealing
    # stamps the 40 mm seal there.
    place = cover_seal_place(rendered_opinion.read_bytes())
    assert place is not None and place[0] == 0  # on the cover, page 1
    _page, left, top = place
    scale = 100 / 72  # PDF points → pixels at 100 dpi
    height_pt = 297 * 72 / 25.4
    x0, y0 = round(left * scale), round((height_pt - top) * scale)
    size = round(COVER_SEAL_MM * MM_PX_100DPI)
    assert _red_columns(sealed[0], x0, x0 + size, y0, y0 + size)
    assert not _red_columns(unsealed[0], x0, x0 + size, y0, y0 + size)
    # The sign-off page (page 5) carries the seal field's appearance; nothing red before sealing.
    assert _red_columns(sealed[4], 0, sealed[4].width, 0, sealed[4].height)
    assert not _red_columns(unsealed[4], 0, unsealed[4].width, 0, unsealed[4].height)


def test_cross_page_strips_are_groups_of_at_most_ten_pages() -> None:
    from signing.seal_image import draw_seal
    from signing.seal_marks import Strip, cross_page_strips, strip_image

    assert cross_page_strips(1) == []  # one page: nothing to join
    assert cross_page_strips(2) == [Strip(0, 0, 2), Strip(1, 1, 2)]
    assert [s.parts for s in cross_page_strips(10)] == [10] * 10  # one impression
    # 23 pages: ceil(23 / 10) = 3 impressions; 23 = 3 × 7 + 2, so the first two take 8 pages and the last 7.
    strips = cross_page_strips(23)
    assert [s.parts for s in strips] == [8] * 16 + [7] * 7
    assert [s.part for s in strips[14:18]] == [6, 7, 0, 1] and [s.page for s in strips] == list(range(23))
    # 7 strips of a 600 px seal: edges at round(600 k / 7) = 0, 86, 171, 257, 343, 429, 514, 600.
    seal = draw_seal(INSTITUTION, "司法鉴定专用章")
    assert [strip_image(seal, k, 7).width for k in range(7)] == [86, 85, 86, 86, 86, 85, 86]


def test_a_document_without_cover_place_and_without_the_option_is_left_as_it_is() -> None:
    from signing.seal_image import draw_seal
    from signing.seal_marks import draw_seal_marks

    pdf = forensic_pdf(example(), 0)  # a companion: no cover-seal destination
    assert draw_seal_marks(pdf, draw_seal(INSTITUTION), cross_page=False) is pdf
    assert draw_seal_marks(pdf, draw_seal(INSTITUTION), cross_page=True) is pdf  # one page: no strip either


def test_a_turned_page_gets_its_strip_on_the_right_edge_as_shown(tmp_path: Path) -> None:
    """A bound scan may be turned (/Rotate 90, 180, 270): the strip goes where the page shows its right edge."""
    from pypdf import PdfReader, PdfWriter

    from signing.seal_image import draw_seal
    from signing.seal_marks import draw_seal_marks

    one = PdfReader(io.BytesIO(forensic_pdf(example(), 0))).pages[0]
    writer = PdfWriter()
    for turn in (0, 90, 180, 270):
        writer.add_page(one)
        if turn:
            writer.pages[-1].rotate(turn)
    plain = io.BytesIO()
    writer.write(plain)
    marked = tmp_path / "turned.pdf"
    marked.write_bytes(draw_seal_marks(plain.getvalue(), draw_seal(INSTITUTION, "司法鉴定专用章"), cross_page=True))
    pages = _pages(marked, tmp_path / "png")
    assert [p.width > p.height for p in pages] == [False, True, False, True]  # shown turned
    strip = round(10 * MM_PX_100DPI)  # 4 pages: each a quarter of the 40 mm seal, 10 mm ≈ 39 px
    for n, page in enumerate(pages, start=1):
        y0, y1 = _middle_band(page)
        assert _red_columns(page, page.width - strip + 2, page.width, y0, y1), f"page {n}: no strip at the right"
        assert not _red_columns(page, 0, strip, 0, page.height), f"page {n}: ink at the left edge"
        top_and_bottom = [(x, y) for x in range(0, page.width, 2) for y in (*range(0, strip), *range(page.height - strip, page.height))
                          if _red(page.getpixel((x, y)))]
        assert not top_and_bottom, f"page {n}: ink at the top or bottom edge"


# ─────────────────────────────── who signs which document ──────────────────────────────────────


def test_opinion_signers_are_the_appraisers_of_report_signatures_in_order() -> None:
    case = example()
    doc = document_signers(case, "report")
    # The example lists 唐志明 then 邓晓梅 under report.signatures; licence numbers and titles from appraisers.
    assert [(p.name, p.licence_no, p.role) for p in doc.people] == [
        ("唐志明", "510106012001", "主任法医师"), ("邓晓梅", "510109013007", "副主任法医师")]
    assert doc.firm_name == INSTITUTION and doc.seal_purpose == "司法鉴定专用章"
    case["report"]["signatures"].reverse()  # the field order follows report.signatures, not appraisers
    assert [p.name for p in document_signers(case, "report").people] == ["邓晓梅", "唐志明"]


def test_a_correction_is_signed_by_its_signed_by_and_other_documents_by_the_institution_alone() -> None:
    case = example()
    case["corrections"] = [{"number": "蜀正司鉴〔2026〕临鉴补字第1号", "issued_on": "2026-06-10",
                            "items": [{"location": "第3页", "before": "左胫骨", "after": "右胫骨"}],
                            "reason": "笔误", "signed_by": ["邓晓梅"]}]
    role = document_role(case, key="correction-1", title="司法鉴定意见补正书 蜀正司鉴〔2026〕临鉴补字第1号",
                         primary=False)
    assert role == "correction-1"
    assert [p.name for p in document_signers(case, role).people] == ["邓晓梅"]
    assert document_signers(case, role).too_few() is None  # Art 41: one appraiser's signature suffices
    assert document_role(case, key="commission", title="司法鉴定委托书", primary=False) == "institution"
    assert document_signers(case, "institution").people == ()
    assert document_role(case, key="opinion", title="司法鉴定意见书", primary=True) == "report"
    case["termination"] = {"number": "蜀正司鉴〔2026〕终字第1号", "ground": "not_stable", "explanation": "伤情未稳定",
                           "decided_on": "2026-05-20"}
    # 通则 Art 29: a terminated case's primary document, the 终止鉴定告知书, carries the seal alone
    assert document_role(case, key="termination", title="终止鉴定告知书", primary=True) == "institution"


def test_keys_demo_makes_certificates_for_the_institution_and_the_appraisers(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.serialization import pkcs12
    from typer.testing import CliRunner

    from gongu.cli.app import app

    examples = tmp_path / "examples"
    (examples / "a").mkdir(parents=True)
    (examples / "a" / "case.json").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    result = CliRunner().invoke(app, ["keys", "demo", str(tmp_path / "keys"), "--examples", str(examples)])
    assert result.exit_code == 0, result.output
    snippet = (tmp_path / "keys" / "gongu.toml.snippet").read_text(encoding="utf-8")
    for name, _licence in APPRAISERS:
        assert f'"{name}" = ' in snippet
    firm = pkcs12.load_key_and_certificates((tmp_path / "keys" / "firm.p12").read_bytes(), PASSPHRASE)[1]
    assert firm is not None
    subject = firm.subject.rfc4514_string()
    assert f"O={INSTITUTION}" in subject and "司法鉴定专用章" in subject


# ──────────────────────────────────── sealing and verifying ────────────────────────────────────


def test_opinion_carries_the_institution_seal_and_both_appraisers(world: Forensic, opinion: Path) -> None:
    report, completeness = world.verify(opinion, require_timestamp=True)
    assert report.ok, report.all_problems()
    assert [s.field for s in report.signatures] == ["institution-seal", "appraiser-1", "appraiser-2"]
    assert report.signatures[0].kind == "certification"
    assert [s.signer for s in report.signatures[1:]] == ["唐志明 (DEMO)", "邓晓梅 (DEMO)"]
    assert all(s.timestamp is not None for s in report.signatures)
    assert completeness.complete and completeness.role == "report"
    assert completeness.firm == INSTITUTION and completeness.handlers == ("唐志明", "邓晓梅")


def test_companion_is_sealed_by_the_institution_alone(world: Forensic, companion: Path) -> None:
    report, completeness = world.verify(companion, require_timestamp=True)
    assert report.ok, report.all_problems()
    assert [(s.field, s.kind) for s in report.signatures] == [("institution-seal", "certification")]
    assert report.signatures[0].timestamp is not None
    assert completeness.complete and completeness.role == "institution" and completeness.handlers == ()


def test_companion_with_ltv_ends_with_a_document_timestamp(world: Forensic) -> None:
    sealed = world.seal("companion-ltv", forensic_pdf(example(), 0), ltv=True)
    report, completeness = world.verify(sealed, require_timestamp=True, require_ltv=True)
    assert report.ok, report.all_problems()
    assert report.has_dss and len(report.document_timestamps) == 1
    assert completeness.complete


def test_seal_field_named_firm_is_sealed_too(world: Forensic) -> None:
    sealed = world.seal("firm-field", forensic_pdf(example(), 0, seal_field="firm"))
    report, completeness = world.verify(sealed)
    assert report.ok, report.all_problems()
    assert [s.field for s in report.signatures] == ["firm"]
    assert completeness.complete


def test_an_opinion_rendered_with_the_old_field_names_still_seals_and_verifies(world: Forensic) -> None:
    """A 意见书 rendered before fields were named by role (`handler-N`, `firm-seal`) is sealed in the fields
    it has and verified as complete; `gongu verify` still says who signed as what."""
    sealed = world.seal("old-names", forensic_pdf(example(), 2, seal_field="firm-seal", person_field="handler-{}"))
    report, completeness = world.verify(sealed)
    assert report.ok, report.all_problems()
    assert [s.field for s in report.signatures] == ["firm-seal", "handler-1", "handler-2"]
    assert completeness.complete and completeness.role == "report"
    assert [s.role for s in report.signatures] == ["司法鉴定专用章", "鉴定人", "鉴定人"]


def test_a_tampered_companion_fails_verification(world: Forensic, companion: Path) -> None:
    data = bytearray(companion.read_bytes())
    at = data.index(b"stream", 2000) + 40  # a byte inside a signed content stream
    data[at] ^= 0x01
    tampered = world.root / "companion-tampered.pdf"
    tampered.write_bytes(bytes(data))
    report, _completeness = world.verify(tampered)
    assert not report.ok
    assert report.signatures and not report.signatures[0].intact


def test_the_opinion_cut_back_to_the_seal_alone_is_incomplete(world: Forensic, opinion: Path) -> None:
    """The role is recorded under the institution's signature: a revision with only the seal is still
    the 意见书, whose appraisers have not signed — not a complete institution-only document."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    data = opinion.read_bytes()
    firm = next(s for s in PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
                if s.field_name == "institution-seal")
    cut = world.root / "opinion-cut.pdf"
    _start, _first, second, rest = firm.byte_range
    cut.write_bytes(data[: second + rest])  # the revision the institution's seal closes
    report, completeness = world.verify(cut)
    assert completeness.role == "report"
    assert {m.code for m in completeness.missing} == {"unsigned"}
    assert {m.field for m in completeness.missing} == {"appraiser-1", "appraiser-2"}
    assert not report.ok


def test_one_signing_appraiser_is_refused_citing_art_19(world: Forensic) -> None:
    case = example()
    case["report"]["signatures"] = case["report"]["signatures"][:1]
    with pytest.raises(SealError, match=r"通则 Art 19") as err:
        world.seal("one-appraiser", forensic_pdf(case, 1))
    assert "至少需要两名鉴定人签名，当前 1 名" in str(err.value)
    assert not (world.root / "one-appraiser.pdf").exists()


def test_an_appraiser_without_a_key_is_refused(world: Forensic) -> None:
    handlers = dict(world.pki.handler_p12)
    del handlers["邓晓梅"]
    with pytest.raises(SealError, match="邓晓梅"):
        world.seal("no-key", forensic_pdf(example(), 2), handlers=handlers)


def test_the_seal_of_another_institution_is_not_the_case_institution(world: Forensic) -> None:
    case = example()
    case["institution"]["name"] = "成都另一司法鉴定所"
    from signing.seal import SignerRefused, load_signer, seal_pdf
    from signing.signers import document_signers

    with pytest.raises(SignerRefused, match=f"印章密钥的证书属于「{INSTITUTION}」，不是本案鉴定机构「成都另一司法鉴定所」"):
        world.seal("other-institution", forensic_pdf(case, 0), case=case)
    assert not (world.root / "other-institution.pdf").exists()
    # A forger's own tool skips that check: the verifier still names the wrong seal.
    sealed = world.root / "other-institution-forged.pdf"
    sealed.write_bytes(seal_pdf(forensic_pdf(case, 0), firm_name="成都另一司法鉴定所",
                                firm_signer=load_signer(world.pki.firm_p12, PASSPHRASE), handlers=[],
                                tsa_url=world.tsa.url, document=document_signers(case, "institution")))
    _report, completeness = world.verify(sealed)
    assert [m.code for m in completeness.missing] == ["wrong_signer"]
    assert "不是本案鉴定机构「成都另一司法鉴定所」" in completeness.missing[0].message


def test_fields_the_opinion_lacks_are_refused(world: Forensic) -> None:
    """An 意见书 rendered with one appraiser's field while report.signatures names two."""
    pdf = forensic_pdf(example(), 1)
    assert set(signature_field_names(pdf)) == {"appraiser-1", "institution-seal"}
    with pytest.raises(SealError, match="appraiser-2"):
        world.seal("short-fields", pdf)


def test_issue_refuses_one_signing_appraiser_before_rendering(tmp_path: Path, world: Forensic) -> None:
    from generator.issuance import IssueRefused
    from gongu.pipeline.issuing import issue_case
    from gongu.pipeline.sealing import ConfiguredSigner
    from gongu.settings import load_settings

    case = copy.deepcopy(example())
    case["report"]["signatures"] = case["report"]["signatures"][:1]
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "gongu.toml").write_text('[people]\nnames = ["王一帆", "宋建华", "罗永康"]\n', encoding="utf-8")
    settings = load_settings(tmp_path)
    rendered: list[Path] = []

    def never(*args: Any) -> list[Any]:
        rendered.append(args[1])
        return []

    with pytest.raises(IssueRefused) as err:
        issue_case(path, signer=ConfiguredSigner(world.config(), lambda *_: PASSPHRASE), settings=settings,
                   out_dir=tmp_path / "issued", render_many=never)
    assert any(r.startswith("[通则 Art 19]") and "$.report.signatures" in r for r in err.value.reasons)
    assert rendered == [] and not (tmp_path / "issued").exists()
    assert json.loads(path.read_text(encoding="utf-8")).get("issuances") == []


def test_gongu_seal_and_verify_a_forensic_companion_from_the_command_line(world: Forensic, tmp_path: Path) -> None:
    """`gongu seal` reads the embedded case file and the PDF's fields: no appraisers' fields, so the
    institution seals alone with its own key ([signing] firm_p12); `gongu verify` finds it complete."""
    from typer.testing import CliRunner

    from gongu.cli.app import app

    home = tmp_path / "home"
    home.mkdir()
    (home / "gongu.toml").write_text(
        "[signing]\n"
        f'firm_p12 = "{world.pki.firm_p12}"\ntsa_url = "{world.tsa.url}"\n'
        f'trust_roots = ["{world.pki.root_pem}"]\ncrls = ["{world.pki.crl}"]\n'
        "[signing.handlers]\n" + "".join(f'"{n}" = "{p}"\n' for n, p in world.pki.handler_p12.items()),
        encoding="utf-8")
    unsealed = tmp_path / "commission.pdf"
    unsealed.write_bytes(forensic_pdf(example(), 0))
    env = {"GONGU_HOME": str(home), "GONGU_FIRM_KEY_PASSPHRASE": "gongu-demo"}  # no appraiser key is unlocked
    runner = CliRunner()
    result = runner.invoke(app, ["seal", str(unsealed)], env=env)
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["verify", str(tmp_path / "commission-sealed.pdf"), "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["complete"] is True and [s["field"] for s in data["signatures"]] == ["institution-seal"]
    assert data["embedded_case"] == {"case_id": "SJ-2026-0318", "report_number": "蜀正司鉴〔2026〕临鉴字第0318号"}


# ─────────────────────────────── issuing example (a) end to end ───────────────────────────────

REVIEWERS = '[people]\nnames = ["王一帆", "宋建华", "罗永康"]\n'  # example (a)'s 校对 / 复核 / 签发


def _issue_home(base: Path) -> tuple[Path, Any]:
    """A copy of example (a)'s folder (issuing writes the issuance into the case file) and a home whose
    gongu.toml registers its reviewers."""
    import shutil

    from gongu.settings import load_settings

    work = base / "case"
    shutil.copytree(EXAMPLE.parent, work)
    (base / "gongu.toml").write_text(REVIEWERS, encoding="utf-8")
    return work / "case.json", load_settings(base)


@dataclass
class Issued:
    case_file: Path
    result: Any  # gongu.pipeline.issuing.IssueResult
    out: Path


@pytest.fixture(scope="module")
def issued(world: Forensic, tmp_path_factory: pytest.TempPathFactory) -> Issued:
    from gongu.pipeline.issuing import issue_case
    from gongu.pipeline.sealing import ConfiguredSigner

    base = tmp_path_factory.mktemp("issue-a")
    case_file, settings = _issue_home(base)
    out = base / "issued"
    # Sealed on the 意见书's own date (29 May 2026): another day is refused (通则 Art 37).
    result = issue_case(case_file, signer=ConfiguredSigner(world.config(), lambda *_: PASSPHRASE),
                        settings=settings, out_dir=out, clock=OPINION_DAY)
    return Issued(case_file, result, out)


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_issue_publishes_the_opinion_signed_by_the_institution_and_both_appraisers(world: Forensic,
                                                                                   issued: Issued) -> None:
    primary = issued.result.files["pdf"]
    # the report number as a file name: 〔 and 〕 are not safe in a file name and become "_"
    assert primary == issued.out / "蜀正司鉴_2026_临鉴字第0318号.pdf"
    report, completeness = world.verify(primary, require_timestamp=True)
    assert report.ok, report.all_problems()
    assert [s.field for s in report.signatures] == ["institution-seal", "appraiser-1", "appraiser-2"]
    assert [s.signer for s in report.signatures[1:]] == ["唐志明 (DEMO)", "邓晓梅 (DEMO)"]
    assert completeness.role == "report" and completeness.firm == INSTITUTION
    assert issued.result.files["docx"].is_file()


def test_issue_publishes_every_companion_sealed_by_the_institution_alone(world: Forensic, issued: Issued) -> None:
    documents = issued.result.documents
    # example (a) is a joint commission with neither extension nor correction: at least the 委托书, the
    # institution choice record, the recusal declarations and the review opinion go with the 意见书
    assert {"commission", "selection", "recusal", "review_opinion"} <= set(documents)
    for key, (_title, files) in documents.items():
        report, completeness = world.verify(files["pdf"], require_timestamp=True)
        assert report.ok, (key, report.all_problems())
        assert [s.field for s in report.signatures] == ["institution-seal"], key
        assert completeness.complete and completeness.role == "institution", key
        assert files["docx"].is_file()


def test_issue_records_one_issuance_with_every_document_and_its_hashes(issued: Issued) -> None:
    data = json.loads(issued.case_file.read_text(encoding="utf-8"))
    assert len(data["issuances"]) == 1
    entry = data["issuances"][0]
    assert entry["number"] == "蜀正司鉴〔2026〕临鉴字第0318号" and entry["sealed"] is True
    assert entry["pdf_sha256"] == _sha256(issued.out / entry["pdf_file"])
    assert entry["docx_sha256"] == _sha256(issued.out / entry["docx_file"])
    assert {d["key"] for d in entry["documents"]} == set(issued.result.documents)
    for d in entry["documents"]:
        assert d["pdf_sha256"] == _sha256(issued.out / d["pdf_file"])
        assert d["docx_sha256"] == _sha256(issued.out / d["docx_file"])
    # the case file still loads: Issuance.documents is part of the model
    from generator.loading import load_case

    case = load_case(issued.case_file).case
    assert [d.key for d in case.issuances[0].documents] == [d["key"] for d in entry["documents"]]


def test_an_issued_companion_tampered_with_fails_verification(world: Forensic, issued: Issued) -> None:
    _title, files = issued.result.documents["commission"]
    data = bytearray(files["pdf"].read_bytes())
    at = data.index(b"stream", 2000) + 40
    data[at] ^= 0x01
    tampered = issued.out.parent / "commission-tampered.pdf"
    tampered.write_bytes(bytes(data))
    report, _completeness = world.verify(tampered)
    assert not report.ok


def test_issuing_twice_is_refused(world: Forensic, issued: Issued) -> None:
    from generator.issuance import IssueRefused
    from gongu.pipeline.issuing import issue_case
    from gongu.pipeline.sealing import ConfiguredSigner
    from gongu.settings import load_settings

    with pytest.raises(IssueRefused, match="已于"):
        issue_case(issued.case_file, signer=ConfiguredSigner(world.config(), lambda *_: PASSPHRASE),
                   settings=load_settings(issued.case_file.parent.parent), out_dir=issued.out)


def test_a_document_that_cannot_be_sealed_publishes_nothing(world: Forensic, tmp_path: Path) -> None:
    """The 意见书 seals, then a companion fails: nothing is published, the case file is unchanged."""
    from gongu.pipeline.issuing import issue_case
    from gongu.pipeline.sealing import ConfiguredSigner

    case_file, settings = _issue_home(tmp_path)
    before = case_file.read_bytes()
    good = ConfiguredSigner(world.config(), lambda *_: PASSPHRASE)
    sealed: list[str | None] = []

    class FailsOnCompanion:
        def seal(self, pdf: Path, output: Path, case_raw: dict[str, Any], *, role: str | None = None,
                 title: str | None = None) -> Path:
            if role == "institution":
                raise SealError("时间戳服务不可用（TSA unreachable）")
            sealed.append(role)
            return good.seal(pdf, output, case_raw, role=role, title=title)

    out = tmp_path / "issued"
    with pytest.raises(SealError):
        issue_case(case_file, signer=FailsOnCompanion(), settings=settings, out_dir=out, clock=OPINION_DAY)
    assert sealed == ["report"]  # the 意见书 was sealed first, then a companion failed
    assert [p.name for p in out.rglob("*") if p.is_file()] == []
    assert case_file.read_bytes() == before


# ─────────────── appraisers bound to their institution; who signed as what, in Beijing time ───────────────

SURVEY_FIRM = "广东粤信保险公估有限公司"  # a survey firm, not the institution that issues the opinion


def _foreign_appraiser_p12(world: Forensic, name: str, licence: str, organisation: str) -> Path:
    """A certificate for an appraiser from the trusted demo root that names `organisation` (subject O): what
    the demo PKI issued before appraisers were bound to their institution."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from signing.keys import DEMO_PASSPHRASE, Issued, _name, issue, write_p12

    root_cert = x509.load_pem_x509_certificate(world.pki.root_pem.read_bytes())
    root_key = serialization.load_pem_private_key((world.pki.directory / "trust" / "root-key.pem").read_bytes(),
                                                  PASSPHRASE)
    root = Issued(root_cert, root_key)  # type: ignore[arg-type]
    cert = issue(root, _name(f"{name} (DEMO)", organisation, serial=licence), crl_url=world.tsa.crl_url)
    return write_p12(world.root / f"foreign-{licence}.p12", cert, [root_cert], DEMO_PASSPHRASE, name)


def test_sealing_refuses_an_appraiser_certified_by_another_organisation(world: Forensic) -> None:
    from signing.seal import SignerRefused

    handlers = dict(world.pki.handler_p12)
    handlers["邓晓梅"] = _foreign_appraiser_p12(world, "邓晓梅", "510109013007", SURVEY_FIRM)
    with pytest.raises(SignerRefused) as err:
        world.seal("foreign-appraiser", forensic_pdf(example(), 2), handlers=handlers)
    assert str(err.value) == (f"[通则 Art 19] 鉴定人「邓晓梅」的签名证书属于「{SURVEY_FIRM}」，不是出具本文书的鉴定机构"
                              f"「{INSTITUTION}」（appraiser's certificate names another organisation）")
    assert not (world.root / "foreign-appraiser.pdf").exists()


def test_issue_refuses_an_appraiser_certified_by_another_organisation(world: Forensic, tmp_path: Path) -> None:
    """`gongu issue`: the 意见书 is refused with the reason (IssueRefused: exit 1), nothing is published and
    the case file is left as it was."""
    from generator.issuance import IssueRefused
    from gongu.pipeline.issuing import issue_case
    from gongu.pipeline.sealing import ConfiguredSigner

    case_file, settings = _issue_home(tmp_path)
    before = case_file.read_bytes()
    handlers = dict(world.pki.handler_p12)
    handlers["唐志明"] = _foreign_appraiser_p12(world, "唐志明", "510106012001", SURVEY_FIRM)
    out = tmp_path / "issued"
    with pytest.raises(IssueRefused) as err:
        issue_case(case_file, signer=ConfiguredSigner(world.config(handlers=handlers), lambda *_: PASSPHRASE),
                   settings=settings, out_dir=out, clock=OPINION_DAY)
    assert err.value.reasons == [f"[通则 Art 19] 鉴定人「唐志明」的签名证书属于「{SURVEY_FIRM}」，不是出具本文书的"
                                 f"鉴定机构「{INSTITUTION}」（appraiser's certificate names another organisation）"]
    assert [p for p in out.rglob("*") if p.is_file()] == []
    assert case_file.read_bytes() == before


def test_issue_refuses_a_claims_handler_entered_as_appraiser(world: Forensic, tmp_path: Path) -> None:
    """The insurer's claims handler 陈敏 typed in as the second appraiser: refused before rendering, by the
    register (通则 Art 19) and as the insurer's person (Sichuan 四(一))."""
    from generator.issuance import IssueRefused
    from gongu.pipeline.issuing import issue_case
    from gongu.pipeline.sealing import ConfiguredSigner

    case_file, settings = _issue_home(tmp_path)
    data = json.loads(case_file.read_text(encoding="utf-8"))
    data["appraisers"][1].update(name="陈敏", licence_no="510106099999")
    data["report"]["signatures"][1]["appraiser"] = "陈敏"
    data["recusals"][1]["appraiser"] = "陈敏"
    case_file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(IssueRefused) as err:
        issue_case(case_file, signer=ConfiguredSigner(world.config(), lambda *_: PASSPHRASE), settings=settings,
                   out_dir=tmp_path / "issued")
    assert any(r.startswith("[通则 Art 19]") and "$.appraisers[1].licence_no" in r and "执业鉴定人名册" in r
               for r in err.value.reasons)
    assert any(r.startswith("[Sichuan 四(一)]") and "$.appraisers[1].name" in r for r in err.value.reasons)
    assert not (tmp_path / "issued").exists()


def test_verify_finds_an_appraiser_of_another_organisation(world: Forensic) -> None:
    """A 意见书 signed (below the refusals, with seal_pdf) by an appraiser whose certificate names the survey
    firm: every signature is cryptographically good, the document is still not the institution's."""
    from signing.seal import load_signer, seal_pdf
    from signing.signers import document_signers

    case = example()
    document = document_signers(case, "report")
    foreign = _foreign_appraiser_p12(world, "邓晓梅", "510109013007", SURVEY_FIRM)
    keys = {"唐志明": world.pki.handler_p12["唐志明"], "邓晓梅": foreign}
    sealed = seal_pdf(forensic_pdf(case, 2), firm_name=INSTITUTION,
                      firm_signer=load_signer(world.pki.firm_p12, PASSPHRASE),
                      handlers=[(p, load_signer(keys[p.name], PASSPHRASE)) for p in document.people],
                      tsa_url=world.tsa.url, document=document)
    path = world.root / "foreign-signed.pdf"
    path.write_bytes(sealed)
    report, completeness = world.verify(path)
    assert [(m.field, m.code) for m in completeness.missing] == [("appraiser-2", "wrong_organisation")]
    assert not report.ok
    second = report.signatures[2]
    assert (second.role, second.person, second.licence_no) == ("鉴定人", "邓晓梅", "510109013007")
    assert (second.organisation, second.own_organisation) == (SURVEY_FIRM, False)
    assert report.signatures[1].own_organisation is True


def test_verify_names_roles_licences_and_the_institution_in_beijing_time(world: Forensic, opinion: Path,
                                                                          tmp_path: Path) -> None:
    import datetime as dt

    from typer.testing import CliRunner

    from gongu.cli.app import app

    home = tmp_path / "home"
    home.mkdir()
    (home / "gongu.toml").write_text(
        f'[signing]\nfirm_p12 = "{world.pki.firm_p12}"\ntrust_roots = ["{world.pki.root_pem}"]\n'
        f'crls = ["{world.pki.crl}"]\n', encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["verify", str(opinion), "--json"], env={"GONGU_HOME": str(home)})
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    people = [(s["field"], s["role"], s["person"], s["licence_no"], s["organisation"], s["own_organisation"])
              for s in data["signatures"]]
    assert people == [
        ("institution-seal", "司法鉴定专用章", f"DEMO {INSTITUTION} 司法鉴定专用章", None, INSTITUTION, True),
        ("appraiser-1", "鉴定人", "唐志明", "510106012001", INSTITUTION, True),
        ("appraiser-2", "鉴定人", "邓晓梅", "510109013007", INSTITUTION, True)]
    for s in data["signatures"]:
        assert s["signing_time"].endswith("+08:00") and s["timestamp"]["time"].endswith("+08:00")

    result = runner.invoke(app, ["verify", str(opinion)], env={"GONGU_HOME": str(home), "COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    flat = result.output.replace("│", " ")
    for words in ("鉴定人：唐志明", "执业证号 510106012001", f"{INSTITUTION}（本机构）", "司法鉴定专用章：DEMO"):
        assert words in flat, words
    # China keeps no daylight saving time: Beijing time is UTC + 8 hours all year.
    utc = dt.datetime.fromisoformat(data["signatures"][1]["signing_time"]).astimezone(dt.UTC)
    assert f"{utc + dt.timedelta(hours=8):%Y-%m-%d %H:%M:%S} 北京时间" in flat
    assert "UTC" not in flat


def test_verify_finds_an_appraiser_missing_from_the_embedded_register(world: Forensic) -> None:
    """The file alone tells: the case file embedded in the 意见书 carries the institution's register, and
    邓晓梅 (510109013007) is not on it; a case file without a register (issued before registers were kept)
    is not judged on one."""
    case = example()
    register = case["institution"]["appraiser_register"]
    register[:] = [e for e in register if e["licence_no"] != "510109013007"]
    sealed = world.seal("unregistered", forensic_pdf(case, 2), case=case)
    _report, completeness = world.verify(sealed)
    assert [(m.field, m.code) for m in completeness.missing] == [("appraiser-2", "not_registered")]
    assert "鉴定人「邓晓梅」（执业证号 510109013007）不在案件文件所载鉴定机构「四川蜀正司法鉴定中心」的执业鉴定人名册上" \
        in completeness.missing[0].message

    case["institution"]["appraiser_register"] = []
    sealed = world.seal("no-register", forensic_pdf(case, 2), case=case)
    _report, completeness = world.verify(sealed)
    assert completeness.complete
