"""Verification (电子签名法 Art. 13: any change after signing is detectable): intact, valid, trusted,
timestamps, DocMDP and pyHanko's difference analysis, reasons in Chinese and English."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.generic import StreamObject, pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from sealkit import PASSPHRASE, World

from signing.keys import make_root
from signing.verify import VerifyError, verify_pdf


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("verify"))
    yield w
    w.close()


@pytest.fixture(scope="module")
def sealed(world: World) -> Path:
    return world.seal("sealed")


def test_sealed_report_verifies(world: World, sealed: Path) -> None:
    report = verify_pdf(sealed, [world.pki.root_pem])
    assert report.ok, report.all_problems()
    assert report.certified and report.docmdp_level == 2
    assert [s.field for s in report.signatures] == ["firm-seal", "handler-1", "handler-2"]
    assert [s.kind for s in report.signatures] == ["certification", "approval", "approval"]
    for s in report.signatures:
        assert s.intact and s.valid and s.trusted
        assert s.timestamp is not None and s.timestamp.trusted and "Gongu Demo TSA" in s.timestamp.tsa
        assert s.signing_time is not None
        # The token is taken after the signature is made, within the same minute on any machine.
        assert dt.timedelta(0) <= s.timestamp.time - s.signing_time < dt.timedelta(minutes=5)
    # Later handlers' signatures are the only change after the firm's certification: form filling.
    assert report.signatures[0].modification_level == "FORM_FILLING"
    assert report.signatures[0].changed_fields == ("handler-1", "handler-2")
    assert report.signatures[-1].modification_level == "NONE"


def test_report_names_subject_and_serial(world: World, sealed: Path) -> None:
    from cryptography.hazmat.primitives.serialization import pkcs12

    report = verify_pdf(sealed, [world.pki.root_pem])
    _key, cert, _chain = pkcs12.load_key_and_certificates(world.pki.handler_p12["王志强"].read_bytes(), PASSPHRASE)
    handler = report.signatures[1]
    assert handler.serial == format(cert.serial_number, "x")
    assert "GZ510100201800321" in handler.subject and handler.signer.startswith("王志强")


def test_report_as_json(world: World, sealed: Path) -> None:
    data = json.loads(json.dumps(verify_pdf(sealed, [world.pki.root_pem]).as_dict(), ensure_ascii=False))
    assert data["ok"] is True and len(data["signatures"]) == 3
    assert data["signatures"][0]["timestamp"]["trusted"] is True


def test_survey_signatures_name_roles_licences_and_the_firm_in_beijing_time(world: World, sealed: Path) -> None:
    report = verify_pdf(sealed, [world.pki.root_pem])
    firm = world.case["firm"]["name"]  # 四川蜀安保险公估有限公司; the handlers' roles from the slope example
    assert [(s.role, s.person, s.licence_no, s.organisation, s.own_organisation) for s in report.signatures] == [
        ("公估机构印章", f"DEMO {firm} 公估专用章", None, firm, True),
        ("承办人员（主办公估师）", "王志强", "GZ510100201800321", firm, True),
        ("承办人员（协办公估师）", "陈晓梅", "GZ510100201900877", firm, True)]
    data = report.as_dict()
    utc = report.signatures[1].signing_time
    assert utc is not None
    # Beijing is UTC + 8 hours all year (no summer time): the same instant, written with +08:00
    assert data["signatures"][1]["signing_time"] == (utc + dt.timedelta(hours=8)).replace(tzinfo=None).isoformat() \
        + "+08:00"


def test_one_flipped_byte_in_the_signed_range_fails(world: World, sealed: Path) -> None:
    data = bytearray(sealed.read_bytes())
    first_sig = next(iter(PdfFileReader(io.BytesIO(bytes(data)), strict=False).embedded_regular_signatures))
    start, length = first_sig.byte_range[0], first_sig.byte_range[1]
    # A letter of the Producer string: inside every signature's range, the file stays parseable.
    pos = data.index(b"WeasyPrint", start, start + length) + 1
    data[pos] ^= 0x20
    tampered = world.root / "flipped.pdf"
    tampered.write_bytes(bytes(data))
    report = verify_pdf(tampered, [world.pki.root_pem])
    assert not report.ok
    assert all(not s.intact for s in report.signatures)
    assert any("篡改" in p and "altered" in p for p in report.all_problems())


def test_page_content_added_after_sealing_is_flagged(world: World, sealed: Path) -> None:
    """A new content stream on page 1 in an incremental update: not what DocMDP P=2 allows."""
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed.read_bytes()), strict=False)
    # A blue box drawn over the first page, as a forger would hide a figure.
    stream = writer.add_object(StreamObject(stream_data=b"0 0 1 rg 50 50 200 40 re f"))
    writer.add_stream_to_page(0, stream, resources=None)
    out = io.BytesIO()
    writer.write(out)
    changed = world.root / "changed.pdf"
    changed.write_bytes(out.getvalue())

    report = verify_pdf(changed, [world.pki.root_pem])
    assert not report.ok
    # The signed bytes are untouched, so every signature is still intact and valid …
    assert all(s.intact and s.valid for s in report.signatures)
    # … but the difference analysis flags the change against every one of them.
    for s in report.signatures:
        assert s.modification_level == "OTHER" or s.docmdp_ok is False
    assert any("修改" in p and "modified after signing" in p for p in report.all_problems())


def test_annotation_added_after_sealing_is_flagged(world: World, sealed: Path) -> None:
    """P=2 allows signing and form filling only; a new annotation (P=3 territory) is a change too."""
    from pyhanko.pdf_utils.generic import ArrayObject, DictionaryObject, FloatObject, TextStringObject

    writer = IncrementalPdfFileWriter(io.BytesIO(sealed.read_bytes()), strict=False)
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    annot = writer.add_object(DictionaryObject({
        pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Text"),
        pdf_name("/Rect"): ArrayObject([FloatObject(10), FloatObject(10), FloatObject(30), FloatObject(30)]),
        pdf_name("/Contents"): TextStringObject("金额改为 999 万元"),
    }))
    annots = page.get("/Annots", ArrayObject())
    annots.append(annot)
    page[pdf_name("/Annots")] = annots
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    path = world.root / "annotated.pdf"
    path.write_bytes(out.getvalue())
    report = verify_pdf(path, [world.pki.root_pem])
    assert not report.ok
    assert report.signatures[0].docmdp_ok is False or report.signatures[0].modification_level == "OTHER"


def test_untrusted_root_is_flagged(sealed: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-root.pem"
    other.write_bytes(make_root("Someone Else Root").cert.public_bytes(serialization.Encoding.PEM))
    report = verify_pdf(sealed, [other])
    assert not report.ok
    assert all(s.intact and s.valid and not s.trusted for s in report.signatures)
    assert any("不受信任" in p and "not trusted" in p for p in report.all_problems())


def test_no_trust_roots_is_not_a_pass(sealed: Path) -> None:
    report = verify_pdf(sealed, [])
    assert not report.ok
    assert any("--trust" in p for p in report.all_problems())


def test_expired_handler_certificate_is_flagged(world: World) -> None:
    handlers = dict(world.pki.handler_p12)
    handlers["王志强"] = world.expired_p12("王志强", "GZ510100201800321")
    # Without trust roots the seal step cannot refuse the expired certificate (see test_seal): the
    # verifier must catch it.
    sealed = world.seal("sealed-expired", handlers=handlers, trust_roots=())
    report = verify_pdf(sealed, [world.pki.root_pem])
    assert not report.ok
    by_field = {s.field: s for s in report.signatures}
    assert by_field["handler-1"].intact and by_field["handler-1"].valid and not by_field["handler-1"].trusted
    assert by_field["handler-2"].ok and by_field["firm-seal"].ok
    assert any("过期" in p and "expired" in p for p in by_field["handler-1"].problems)


def test_unsigned_pdf_is_not_verified(world: World) -> None:
    report = verify_pdf(world.report, [world.pki.root_pem])
    assert not report.ok and any("没有签名" in p for p in report.problems)


def test_not_a_pdf_raises_verify_error(tmp_path: Path) -> None:
    bogus = tmp_path / "x.pdf"
    bogus.write_bytes(b"hello, not a pdf")
    with pytest.raises(VerifyError):
        verify_pdf(bogus, [])
    with pytest.raises(VerifyError, match="无法读取"):
        verify_pdf(tmp_path / "missing.pdf", [])


@pytest.fixture(scope="module")
def sealed_ltv(world: World) -> Path:
    return world.seal("sealed-ltv", ltv=True)


def test_ltv_report_stays_verifiable_after_the_certificates_expire(world: World, sealed: Path,
                                                                   sealed_ltv: Path) -> None:
    """B-LTA: in 2040 every certificate (3-year demo validity) has expired; the embedded CRLs and
    certificates plus the document timestamp still prove the signatures, the plain B-T report cannot."""
    import logging

    from signing.verify import lta_maintainable

    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)  # pyHanko logs each expired path it rejects
    ltv = sealed_ltv
    later = dt.datetime(2040, 1, 1, tzinfo=dt.UTC)
    now = verify_pdf(ltv, [world.pki.root_pem])
    assert now.ok and now.has_dss and len(now.document_timestamps) == 1, now.all_problems()
    assert all(later > s.not_after for s in now.signatures + now.document_timestamps)
    assert lta_maintainable(ltv, [world.pki.root_pem], later) == dict.fromkeys(["firm-seal", "handler-1", "handler-2"], True)
    assert not any(lta_maintainable(sealed, [world.pki.root_pem], later).values())


def test_renewed_document_timestamp_keeps_everything_valid(world: World, sealed_ltv: Path) -> None:
    """Renewing B-LTA (a new document timestamp before the TSA certificate expires) is an allowed change."""
    from signing.seal import add_document_timestamp
    from signing.trust import validation_context

    vc = validation_context([world.pki.root_pem], [world.pki.crl])
    renewed = world.root / "renewed.pdf"
    renewed.write_bytes(add_document_timestamp(sealed_ltv.read_bytes(), world.tsa.url, vc))
    report = verify_pdf(renewed, [world.pki.root_pem])
    assert report.ok, report.all_problems()
    assert len(report.document_timestamps) == 2
    assert all(s.modification_level in ("LTA_UPDATES", "FORM_FILLING", "NONE") for s in report.signatures)


def test_revoked_handler_certificate_is_flagged(world: World, sealed: Path, tmp_path: Path) -> None:
    """A CRL from the root listing 陈晓梅's certificate: her signature is no longer trusted."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import pkcs12

    from signing.keys import Issued, make_crl

    root_cert = x509.load_pem_x509_certificate(world.pki.root_pem.read_bytes())
    root_key = serialization.load_pem_private_key((world.keys / "trust" / "root-key.pem").read_bytes(), PASSPHRASE)
    _key, cert, _ = pkcs12.load_key_and_certificates(world.pki.handler_p12["陈晓梅"].read_bytes(), PASSPHRASE)
    assert cert is not None
    crl = tmp_path / "revoked.crl"
    crl.write_bytes(make_crl(Issued(root_cert, root_key), revoked=[cert]))  # type: ignore[arg-type]

    report = verify_pdf(sealed, [world.pki.root_pem], crls=[crl])
    by_field = {s.field: s for s in report.signatures}
    assert not report.ok
    assert not by_field["handler-2"].trusted and by_field["handler-1"].trusted
    assert any("吊销" in p and "revoked" in p for p in by_field["handler-2"].problems)


def test_bad_trust_file_is_a_clear_error(sealed: Path, tmp_path: Path) -> None:
    junk = tmp_path / "roots.pem"
    junk.write_bytes(b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n")
    with pytest.raises(VerifyError, match="不是证书文件"):
        verify_pdf(sealed, [junk])
    with pytest.raises(VerifyError, match="无法读取信任根"):
        verify_pdf(sealed, [tmp_path / "missing.pem"])


def test_pyhanko_status_attributes_we_read_are_public_fields() -> None:
    """signing.verify reads pyHanko's status objects by their public dataclass fields (no getattr): this
    fails loudly on an upgrade that renames or drops one, naming it."""
    import dataclasses

    from pyhanko.sign.diff_analysis import DiffResult
    from pyhanko.sign.validation.status import DocumentTimestampStatus, PdfSignatureStatus, TimestampSignatureStatus

    common = {"intact", "valid", "trust_problem_indic", "signing_cert"}
    wanted = {
        PdfSignatureStatus: common | {"signer_reported_dt", "timestamp_validity", "coverage", "diff_result", "docmdp_ok"},
        DocumentTimestampStatus: common | {"timestamp", "coverage", "diff_result", "docmdp_ok"},
        TimestampSignatureStatus: common | {"timestamp"},
        DiffResult: {"modification_level", "changed_form_fields"},
    }
    for cls, names in wanted.items():
        missing = names - {f.name for f in dataclasses.fields(cls)}
        assert not missing, f"pyHanko {cls.__name__} lost {missing}: update signing/verify.py"
    assert isinstance(PdfSignatureStatus.modification_level, property)
