"""Sealing a rendered report: firm certification first (DocMDP P=2), then each handler's approval
signature, timestamps from the local TSA, visible stamps with embedded fonts, PDF/A-3a kept."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation.dss import DocumentSecurityStore
from sealkit import PASSPHRASE, World, example_case, pdfa_claim, pdffonts, sample_report

from signing.embedded import embedded_case
from signing.keys import WrongPassphrase
from signing.seal import (
    FIRM_FIELD,
    SealError,
    Signatory,
    handler_stamp_text,
    load_signer,
    seal_pdf,
    seal_report,
    signature_field_names,
)
from signing.seal_image import SEAL_RED, draw_seal


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("seal"))
    yield w
    w.close()


@pytest.fixture(scope="module")
def sealed(world: World) -> Path:
    return world.seal("sealed")


@pytest.fixture(scope="module")
def sealed_ltv(world: World) -> Path:
    return world.seal("sealed-ltv", ltv=True)


def _reader(path: Path) -> PdfFileReader:
    return PdfFileReader(io.BytesIO(path.read_bytes()), strict=False)


def test_renderer_leaves_the_fields_the_seal_fills(world: World) -> None:
    fields = signature_field_names(world.report.read_bytes())
    assert fields == {"handler-1": False, "handler-2": False, FIRM_FIELD: False}


def test_sealed_and_rendered_reports_get_the_same_mode(world: World, sealed: Path) -> None:
    """Issue 11: one atomic write — a sealed PDF is no longer 0600 while the rendered one is 0644."""
    umask = os.umask(0)
    os.umask(umask)
    rendered, sealed_mode = stat.S_IMODE(world.report.stat().st_mode), stat.S_IMODE(sealed.stat().st_mode)
    assert rendered == sealed_mode == 0o666 & ~umask


def test_firm_certifies_first_then_each_handler_approves(sealed: Path) -> None:
    """电子签名法 Art. 13 / 资产评估法 Art. 27: the firm's seal certifies (first, as PDF requires of a
    certification signature) and allows only signing; the handlers sign after it."""
    sigs = list(_reader(sealed).embedded_regular_signatures)
    assert [s.field_name for s in sigs] == [FIRM_FIELD, "handler-1", "handler-2"]
    assert sigs[0].docmdp_level == MDPPerm.FILL_FORMS
    assert [s.docmdp_level for s in sigs[1:]] == [None, None]
    # Each later signature covers the earlier ones: the byte ranges grow.
    ends = [s.byte_range[2] + s.byte_range[3] for s in sigs]
    assert ends == sorted(ends) and len(set(ends)) == 3


def test_signers_are_the_case_handlers_in_order(sealed: Path) -> None:
    case = example_case()
    sigs = list(_reader(sealed).embedded_regular_signatures)
    subjects = [s.signer_cert.subject.native for s in sigs]
    assert subjects[0]["organization_name"] == case["firm"]["name"]
    for subject, handler in zip(subjects[1:], case["handlers"], strict=True):
        assert subject["common_name"].startswith(handler["name"])
        assert subject["serial_number"] == handler["licence_no"]


def test_rsa_sha256_keeps_the_pdf_version(world: World, sealed: Path) -> None:
    """ECDSA would make pyHanko raise the header to PDF 2.0, which PDF/A-3 does not allow."""
    original_header = world.report.read_bytes()[:8]
    assert sealed.read_bytes()[:8] == original_header
    assert _reader(sealed).input_version < (2, 0)
    for sig in _reader(sealed).embedded_regular_signatures:
        assert sig.signer_cert.public_key.algorithm == "rsa"
        assert sig.signer_info["digest_algorithm"]["algorithm"].native == "sha256"


def test_sealed_report_still_declares_pdfa_3a(sealed: Path) -> None:
    assert pdfa_claim(sealed.read_bytes()) == ("3", "A")


def test_every_font_embedded_including_the_stamps(sealed: Path, world: World) -> None:
    rows = pdffonts(sealed)
    assert rows and all(r["emb"] == "yes" for r in rows), rows
    # The handler stamps add fonts of their own (two stamps → two subsets), also embedded.
    assert len(rows) > len(pdffonts(world.report))


def test_signature_timestamps_come_from_the_local_tsa(world: World, sealed: Path) -> None:
    """RFC 3161 / PAdES B-T: each signature carries a token over its own signature value."""
    for sig in _reader(sealed).embedded_regular_signatures:
        tokens = [a["values"][0] for a in sig.signer_info["unsigned_attrs"]
                  if a["type"].native == "signature_time_stamp_token"]
        assert len(tokens) == 1, sig.field_name
        signed_data = tokens[0]["content"]
        tst_info = signed_data["encap_content_info"]["content"].parsed
        imprint = tst_info["message_imprint"]
        assert imprint["hash_algorithm"]["algorithm"].native == "sha256"
        assert imprint["hashed_message"].native == hashlib.sha256(sig.signer_info["signature"].native).digest()
        tsa_certs = [c.chosen for c in signed_data["certificates"]]
        tsa = next(c for c in tsa_certs if c.subject.native["common_name"] == "Gongu Demo TSA (DEMO)")
        assert tsa.extended_key_usage_value.native == ["time_stamping"]
    assert world.tsa.requests >= 3


def test_handler_stamp_names_the_handler_and_licence() -> None:
    text = handler_stamp_text(Signatory("王志强", "GZ510100201800321", "主办公估师"))
    assert "王志强（主办公估师）" in text and "GZ510100201800321" in text and "%(signed_at)s" in text


def test_stamps_are_visible_widgets_on_the_signature_page(sealed: Path) -> None:
    reader = _reader(sealed)
    for sig in reader.embedded_regular_signatures:
        field = sig.sig_field
        rect = [float(x) for x in field["/Rect"]]
        assert rect[2] - rect[0] > 50 and rect[3] - rect[1] > 50  # visible, not a 0×0 field
        assert "/N" in field["/AP"]
        assert int(field.get("/F", 0)) & 4  # printable, as PDF/A requires of annotations


def test_ltv_embeds_validation_data_and_a_document_timestamp(sealed_ltv: Path) -> None:
    reader = _reader(sealed_ltv)
    dss = DocumentSecurityStore.read_dss(reader)
    assert len(dss.crls) >= 1  # the root's CRL, fetched from the file the demo PKI wrote
    assert len(dss.certs) >= 3  # root, TSA and signers
    sigs = list(reader.embedded_signatures)
    assert sigs[-1].sig_object_type == "/DocTimeStamp"  # B-LTA: the document timestamp closes the file


def test_ltv_fetches_the_crl_over_loopback(world: World) -> None:
    """With fetch_revocation and no CRL files, the CRL comes from the certificates' distribution point
    (the local server) and ends up in the DSS byte for byte."""
    before = world.tsa.crl_requests
    path = world.seal("sealed-ltv-fetched", ltv=True, crls=(), fetch_revocation=True)
    assert world.tsa.crl_requests > before
    dss = DocumentSecurityStore.read_dss(_reader(path))
    embedded = [ref.get_object().data for ref in dss.crls]
    assert world.pki.crl.read_bytes() in embedded


def test_extra_handler_fields_are_refused(world: World) -> None:
    case = example_case()
    case["handlers"].append({"name": "第三人", "licence_no": "GZ0"})
    pdf = sample_report(case)  # three handler fields
    firm = load_signer(world.pki.firm_p12, PASSPHRASE)
    two = [(Signatory(n), load_signer(p, PASSPHRASE)) for n, p in world.pki.handler_p12.items()]
    with pytest.raises(SealError, match="handler-3"):
        seal_pdf(pdf, firm_name="x", firm_signer=firm, handlers=two)


def test_embedded_case_file_is_found(world: World) -> None:
    raw = embedded_case(world.report.read_bytes())
    assert raw is not None and raw["case_id"] == example_case()["case_id"]


def test_embedded_case_file_is_the_case_file_byte_for_byte_after_sealing(world: World, sealed: Path) -> None:
    """pypdf reads the PDF/A-3 attachment: the renderer embeds the case file as it is on disk, and the
    incremental signatures leave it alone."""
    from signing.embedded import case_identity, embedded_case_json, page_count

    original = world.case_path.read_bytes()
    assert embedded_case_json(world.report) == original
    assert embedded_case_json(sealed.read_bytes()) == original
    case = example_case()
    assert case_identity(sealed) == (case["case_id"], case["report"]["number"])
    # Sealing adds no page: the count matches poppler's for the rendered and the sealed file alike.
    pdfinfo = subprocess.run(["pdfinfo", str(world.report)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in pdfinfo.splitlines() if line.startswith("Pages:")))
    assert page_count(world.report) == page_count(sealed) == pages > 1


def test_reading_a_pdf_without_a_case_file_or_not_a_pdf(tmp_path: Path) -> None:
    from signing.embedded import ReportPdfError, embedded_case_json

    plain = sample_report(example_case(), fields=False)
    # sample_report attaches json.dumps(case): found, since it holds "handlers".
    assert embedded_case_json(plain) == json.dumps(example_case(), ensure_ascii=False).encode("utf-8")
    from weasyprint import HTML

    bare = HTML(string="<p>无附件</p>").write_pdf()
    assert embedded_case_json(bare) is None
    with pytest.raises(ReportPdfError):
        embedded_case_json(b"plain text, not a PDF")


def test_one_pkcs12_loader_tells_a_wrong_passphrase_apart(world: World, tmp_path: Path) -> None:
    from signing.keys import KeyError_, load_p12_signer

    signer = load_p12_signer(world.pki.firm_p12, PASSPHRASE)
    assert example_case()["firm"]["name"] in signer.signing_cert.subject.human_friendly
    assert signer.signing_key.algorithm == "rsa"  # RSA keeps the PDF at 1.7 (PDF/A-3)
    with pytest.raises(WrongPassphrase):
        load_p12_signer(world.pki.firm_p12, b"nope")
    junk = tmp_path / "junk.p12"
    junk.write_bytes(b"0\x82junk")
    with pytest.raises(KeyError_):
        load_p12_signer(junk, PASSPHRASE)


def test_missing_fields_are_named(world: World) -> None:
    pdf = sample_report(example_case(), fields=False)
    firm = load_signer(world.pki.firm_p12, PASSPHRASE)
    people = [(Signatory(n), load_signer(p, PASSPHRASE)) for n, p in world.pki.handler_p12.items()]
    with pytest.raises(SealError) as err:
        seal_pdf(pdf, firm_name="x", firm_signer=firm, handlers=people)
    assert "firm-seal" in str(err.value) and "handler-1" in str(err.value) and "handler-2" in str(err.value)


def test_4_3_at_least_two_handlers_sign(world: World) -> None:
    firm = load_signer(world.pki.firm_p12, PASSPHRASE)
    one = [(Signatory("王志强"), load_signer(next(iter(world.pki.handler_p12.values())), PASSPHRASE))]
    with pytest.raises(SealError, match="至少需要两名"):
        seal_pdf(world.report.read_bytes(), firm_name="x", firm_signer=firm, handlers=one)


def test_an_already_sealed_report_is_not_sealed_again(world: World, sealed: Path) -> None:
    with pytest.raises(SealError, match="已签署"):
        seal_report(sealed, world.root / "twice.pdf", world.config(), lambda *a: PASSPHRASE)
    assert not (world.root / "twice.pdf").exists()


def test_wrong_passphrase_is_a_clear_error_and_writes_nothing(world: World) -> None:
    out = world.root / "wrong.pdf"
    with pytest.raises(SealError, match="口令错误"):
        seal_report(world.report, out, world.config(), lambda *a: b"not-the-passphrase")
    assert not out.exists()
    with pytest.raises(WrongPassphrase):
        load_signer(world.pki.firm_p12, b"nope")


def test_handler_without_a_configured_key_is_named(world: World) -> None:
    handlers = dict(world.pki.handler_p12)
    handlers.pop("陈晓梅")
    with pytest.raises(SealError, match="陈晓梅"):
        seal_report(world.report, world.root / "nokey.pdf", world.config(handlers=handlers), lambda *a: PASSPHRASE)


def test_expired_certificate_is_refused_at_signing(world: World) -> None:
    """With trust roots configured the seal step validates each signer first (pyHanko pre-sign check)."""
    handlers = dict(world.pki.handler_p12)
    handlers["陈晓梅"] = world.expired_p12("陈晓梅", "GZ510100201900877")
    out = world.root / "expired.pdf"
    with pytest.raises(SealError, match="证书无法验证"):
        seal_report(world.report, out, world.config(handlers=handlers), lambda *a: PASSPHRASE)
    assert not out.exists()


def test_unreachable_tsa_fails_cleanly(world: World) -> None:
    out = world.root / "notsa.pdf"
    # Port 9 (discard) on loopback: nothing listens there in the test machine.
    with pytest.raises(SealError, match="签章失败"):
        seal_report(world.report, out, world.config(tsa_url="http://127.0.0.1:9/tsa"), lambda *a: PASSPHRASE)
    assert not out.exists()


def test_seal_image_is_a_red_ring_with_a_star() -> None:
    img = draw_seal("四川蜀安保险公估有限公司")
    size = img.size[0]
    assert img.mode == "RGBA"
    assert img.getpixel((size // 2, size // 2))[:3] == SEAL_RED  # the star's centre
    assert img.getpixel((2, 2))[3] == 0  # transparent outside the ring: the printed text shows through
    ring = img.getpixel((size // 2, int(size * 0.0175) + 1))
    assert ring[:3] == SEAL_RED and ring[3] == 255



def _images_in(xobject: object, found: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(width, height) of every image reachable from a form XObject's resources."""
    obj = xobject.get_object()  # type: ignore[attr-defined]
    if obj.get("/Subtype") == "/Image":
        found.append((int(obj["/Width"]), int(obj["/Height"])))
        return found
    for child in obj.get("/Resources", {}).get("/XObject", {}).values():
        _images_in(child, found)
    return found


def test_configured_seal_image_is_used(world: World, tmp_path: Path) -> None:
    from PIL import Image

    own = tmp_path / "firm-seal.png"
    Image.new("RGBA", (37, 41), (200, 0, 0, 255)).save(own)
    path = world.seal("own-seal-image", seal_image=own)
    sigs = {s.field_name: s for s in _reader(path).embedded_regular_signatures}
    assert (37, 41) in _images_in(sigs[FIRM_FIELD].sig_field["/AP"]["/N"], [])
    # The handlers' stamps carry text, no image.
    assert _images_in(sigs["handler-1"].sig_field["/AP"]["/N"], []) == []


def test_generated_seal_image_sits_in_the_firm_field(sealed: Path) -> None:
    sigs = {s.field_name: s for s in _reader(sealed).embedded_regular_signatures}
    assert (600, 600) in _images_in(sigs[FIRM_FIELD].sig_field["/AP"]["/N"], [])
