"""Verify every signature and document timestamp of a PDF, with pyHanko's validation and difference
analysis, into explicit status objects (shaped like pyHanko's `validation/status.py`).

A report passes only if every signature is intact (the signed bytes hash to the signed digest),
valid (the signature value checks), trusted (a chain to a given root, the certificate in force
when signed), and nothing was changed after it beyond what its DocMDP level allows
(电子签名法 Art. 13: any later change must be detectable).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from pyhanko.sign.diff_analysis import DiffResult, ModificationLevel, SuspiciousModification
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import ModificationInfo, SignatureCoverageLevel, SignatureStatus
from pyhanko_certvalidator import ValidationContext

from signing.completeness import CompletenessPolicy, CompletenessReport, check_completeness
from signing.pdf_reader import IndexedPdfReader, collector_paused
from signing.signers import field_role_title, firm_name, role_from_reason
from signing.status import (
    SignatureReport,
    TimestampInfo,
    VerificationReport,
    VerifyError,
)
from signing.trust import TrustFileError, validation_kwargs

P = ParamSpec("P")
R = TypeVar("R")
_PYHANKO_LOGGERS = ("pyhanko", "pyhanko_certvalidator")


def _quiet_pyhanko(func: Callable[P, R]) -> Callable[P, R]:
    """pyHanko logs its own tracebacks (SuspiciousModification, PathValidationError) while validating a
    damaged or untrusted file; the verdict is in the report we return, so they are held back for the
    duration of the call (levels restored afterwards) instead of reaching stderr unformatted."""

    @functools.wraps(func)
    def quiet(*args: P.args, **kwargs: P.kwargs) -> R:
        loggers = [logging.getLogger(name) for name in _PYHANKO_LOGGERS]
        levels = [lg.level for lg in loggers]
        for lg in loggers:
            lg.setLevel(logging.CRITICAL + 1)
        try:
            return func(*args, **kwargs)
        finally:
            for lg, level in zip(loggers, levels, strict=True):
                lg.setLevel(level)

    return quiet


# Changes after a signature that pyHanko rates at these levels are ones the signer allowed.
_ALLOWED = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING)

_DEMO_MARK = " (DEMO)"


def _identity(cert: Any) -> dict[str, str | None]:
    """person (CN without the demo PKI's " (DEMO)"), licence number (serialNumber) and organisation (O)."""
    names = cert.subject.native
    common = names.get("common_name")
    person = str(common).removesuffix(_DEMO_MARK) if common else None
    serial, org = names.get("serial_number"), names.get("organization_name")
    return {"person": person, "licence_no": str(serial) if serial else None, "organisation": str(org) if org else None}


def _cert_fields(cert: Any) -> tuple[str, str, str, dt.datetime]:
    subject = cert.subject
    names = subject.native
    common = names.get("common_name") or subject.human_friendly
    return str(common), subject.human_friendly, format(cert.serial_number, "x"), cert.not_valid_after


def _trust_problem(status: SignatureStatus) -> str | None:
    # SignatureStatus.trust_problem_indic: an AdES sub-indication enum (ETSI EN 319 102-1), None when trusted.
    indic = status.trust_problem_indic
    return None if indic is None else indic.name


def _trust_message(status: SignatureStatus, not_after: dt.datetime, when: dt.datetime | None) -> str:
    problem = _trust_problem(status) or "NO_CHAIN"
    if when is not None and not_after < when:
        return f"签名证书已于 {not_after:%Y-%m-%d} 过期（certificate expired before signing: {problem}）"
    if status.revoked:
        return f"签名证书已被吊销（certificate revoked: {problem}）"
    if problem in ("EXPIRED", "OUT_OF_BOUNDS_NO_POE", "OUT_OF_BOUNDS_NOT_REVOKED", "NOT_YET_VALID"):
        return f"签名证书不在有效期内（certificate not valid at the signing time: {problem}）"
    return f"签名证书不受信任，无法链接到信任根（certificate not trusted: {problem}）"


def _modification(status: ModificationInfo) -> tuple[str | None, bool | None, tuple[str, ...], str | None]:
    # ModificationInfo.diff_result: a DiffResult (what changed, all allowed by some level), or the
    # SuspiciousModification pyHanko's difference analysis raised, or None (nothing after the signature).
    level = status.modification_level
    diff = status.diff_result
    changed: tuple[str, ...] = ()
    suspicious = None
    if isinstance(diff, DiffResult):
        changed = tuple(sorted(diff.changed_form_fields))
    elif isinstance(diff, SuspiciousModification):
        suspicious = str(diff)
    return (None if level is None else level.name), status.docmdp_ok, changed, suspicious


def _timestamp_info(ts: Any) -> TimestampInfo | None:
    if ts is None:
        return None
    return TimestampInfo(
        time=ts.timestamp,
        tsa=ts.signing_cert.subject.human_friendly,
        tsa_name=str(ts.signing_cert.subject.native.get("common_name") or ts.signing_cert.subject.human_friendly),
        intact=bool(ts.intact),
        valid=bool(ts.valid),
        trusted=bool(ts.trusted),
    )


def _common_problems(status: Any, not_after: dt.datetime, when: dt.datetime | None) -> list[str]:
    problems = []
    if not status.intact:
        problems.append("签名覆盖的内容已被篡改（signed content altered: digest mismatch）")
    elif not status.valid:
        problems.append("签名值无效（signature value does not verify）")
    if status.intact and status.valid and not status.trusted:
        problems.append(_trust_message(status, not_after, when))
    coverage = status.coverage
    if coverage is not None and coverage < SignatureCoverageLevel.ENTIRE_REVISION:
        problems.append("签名未覆盖整个文件修订版（signature does not cover its whole revision）")
    level = status.modification_level
    if status.docmdp_ok is False or (level is not None and level not in _ALLOWED):
        what = "" if level is None else f"：{level.name}"
        problems.append(
            f"签名后文档被以不允许的方式修改{what}（document modified after signing in a way not permitted）"
        )
    return problems


def _context(kwargs: dict[str, Any], dss: DocumentSecurityStore | None) -> ValidationContext:
    return dss.as_validation_context(kwargs) if dss is not None else ValidationContext(**kwargs)


def _check_signature(sig: EmbeddedPdfSignature, kwargs: dict[str, Any], dss: DocumentSecurityStore | None,
                     certification_field: str | None) -> SignatureReport:
    signer, subject, serial, not_after = _cert_fields(sig.signer_cert)
    status = validate_pdf_signature(sig, signer_validation_context=_context(kwargs, dss),
                                     ts_validation_context=_context(kwargs, dss))
    ts = _timestamp_info(status.timestamp_validity)
    when = ts.time if ts is not None else status.signer_reported_dt
    problems = _common_problems(status, not_after, when)
    if ts is not None and not (ts.intact and ts.valid and ts.trusted):
        problems.append("签名时间戳无效或不受信任（signature timestamp invalid or not trusted）")
    mod_level, docmdp_ok, changed, suspicious = _modification(status)
    docmdp = sig.docmdp_level
    return SignatureReport(
        field=str(sig.field_name),
        kind="certification" if sig.field_name == certification_field else "approval",
        signer=signer,
        subject=subject,
        serial=serial,
        not_after=not_after,
        signing_time=status.signer_reported_dt,
        timestamp=ts,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        trust_problem=_trust_problem(status),
        coverage=status.coverage.name if status.coverage is not None else "UNKNOWN",
        docmdp_level=None if docmdp is None else int(docmdp.value),
        modification_level=mod_level,
        docmdp_ok=docmdp_ok,
        changed_fields=changed,
        suspicious_change=suspicious,
        problems=tuple(problems),
        **_identity(sig.signer_cert),  # type: ignore[arg-type]
    )


def _check_doc_timestamp(sig: EmbeddedPdfSignature, kwargs: dict[str, Any],
                         dss: DocumentSecurityStore | None) -> SignatureReport:
    signer, subject, serial, not_after = _cert_fields(sig.signer_cert)
    status = validate_pdf_timestamp(sig, validation_context=_context(kwargs, dss))
    problems = _common_problems(status, not_after, status.timestamp)
    mod_level, docmdp_ok, changed, suspicious = _modification(status)
    return SignatureReport(
        field=str(sig.field_name),
        kind="document_timestamp",
        signer=signer,
        subject=subject,
        serial=serial,
        not_after=not_after,
        signing_time=status.timestamp,
        timestamp=TimestampInfo(status.timestamp, subject, signer, bool(status.intact), bool(status.valid),
                                bool(status.trusted)),
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        trust_problem=_trust_problem(status),
        coverage=status.coverage.name if status.coverage is not None else "UNKNOWN",
        docmdp_level=None,
        modification_level=mod_level,
        docmdp_ok=docmdp_ok,
        changed_fields=changed,
        suspicious_change=suspicious,
        problems=tuple(problems),
        role="文档时间戳",
        organisation=_identity(sig.signer_cert)["organisation"],
    )


def _with_roles(signatures: list[SignatureReport], pdf: bytes, recorded_role: str | None = None,
                seal_field: str | None = None) -> list[SignatureReport]:
    """Each signature's role by its field and whether its certificate is the document's issuer's, from the
    case file embedded in the PDF (signing.embedded; none or unreadable: the role by field name alone). The
    issuer is the institution (or firm), except on a mediation committee's 调解记录, whose role the seal's
    /Reason records (Sichuan 五(一)): there the seal is the committee's and so is the document."""
    from signing.embedded import embedded_case
    from signing.signers import document_signers, is_forensic

    try:
        case = embedded_case(pdf)
    except Exception:  # a hostile attachment: judged without the case file
        case = None
    owner, seal_title = firm_name(case), None
    if case is not None and is_forensic(case) and recorded_role is not None:
        try:
            document = document_signers(case, recorded_role)
        except ValueError:  # a role the case file does not have: the completeness check reports it
            document = None
        if document is not None and document.own_seal:
            owner, seal_title = document.firm_name, f"{document.seal_purpose}（{document.firm_name}）"
    return [replace(s, role=seal_title if seal_title and s.field == seal_field else field_role_title(s.field, case),
                    own_organisation=None if owner is None else s.organisation == owner) for s in signatures]


def _read(data: bytes, path: Path | str) -> IndexedPdfReader:
    try:
        reader = IndexedPdfReader(io.BytesIO(data), strict=False)
        list(reader.embedded_signatures)
    except Exception as exc:  # pyHanko raises several kinds for a broken file
        raise VerifyError(f"{path} 不是可读的 PDF（not a readable PDF）：{exc}") from None
    return reader


def _check_all(reader: IndexedPdfReader, kwargs: dict[str, Any]) -> tuple[
        str | None, int | None, bool, list[SignatureReport], list[SignatureReport], str | None]:
    """(certification field, its DocMDP level, DSS present?, signature reports, document timestamp reports,
    the role the certification signature's /Reason records) — everything `verify_pdf` needs from pyHanko's
    objects, so the reader can be released after."""
    embedded = list(reader.embedded_signatures)
    try:
        dss: DocumentSecurityStore | None = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        dss = None

    certification_field = None
    docmdp_level = None
    for sig in embedded:
        if sig.sig_object_type == "/Sig" and sig.docmdp_level is not None:
            certification_field = sig.field_name
            docmdp_level = int(sig.docmdp_level.value)
            break

    signatures: list[SignatureReport] = []
    stamps: list[SignatureReport] = []
    for sig in embedded:
        if sig.sig_object_type == "/DocTimeStamp":
            stamps.append(_check_doc_timestamp(sig, kwargs, dss))
        else:
            signatures.append(_check_signature(sig, kwargs, dss, certification_field))

    recorded = None
    for sig in embedded:
        if sig.field_name == certification_field:
            try:
                recorded = role_from_reason(str(sig.sig_object.get("/Reason", "")))
            except Exception:  # a damaged signature dictionary: the role by field name alone
                recorded = None
    return certification_field, docmdp_level, dss is not None, signatures, stamps, recorded


@_quiet_pyhanko
def verify_pdf(path: Path | str | bytes, trust_roots: Sequence[Path] = (), *, crls: Sequence[Path] = (),
               require_certified: bool = False) -> VerificationReport:
    """Check every signature of `path` (a file, or a PDF's bytes held in memory: an upload that must not
    be stored) against `trust_roots` (PEM/DER files).

    Raises VerifyError when the file cannot be read as a PDF; every other failure is a problem in
    the returned report (`report.ok` is False).
    """
    if isinstance(path, bytes):
        data, path = path, "上传的文件"
    else:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise VerifyError(f"无法读取 {path}（cannot read file）：{exc.strerror}") from None
    try:
        kwargs = validation_kwargs(list(trust_roots), list(crls))
    except TrustFileError as exc:
        raise VerifyError(str(exc)) from None
    with collector_paused():
        reader = _read(data, path)
        try:
            certification_field, docmdp_level, dss_present, signatures, stamps, recorded = _check_all(reader, kwargs)
        finally:
            reader.release()
        signatures = _with_roles(signatures, data, recorded, certification_field)
    problems = []
    if not signatures:
        problems.append("文件中没有签名（no signatures in the file）")
    if not trust_roots:
        problems.append("未指定信任根，无法判断签名是否可信（no trust roots given: --trust）")
    if require_certified and certification_field is None:
        problems.append("报告未经公估机构认证签章（no certification signature / DocMDP）")
    return VerificationReport(
        file=str(path),
        signatures=tuple(signatures),
        document_timestamps=tuple(stamps),
        certified=certification_field is not None,
        docmdp_level=docmdp_level,
        has_dss=dss_present,
        problems=tuple(problems),
    )


@_quiet_pyhanko
def lta_maintainable(path: Path | str, trust_roots: Sequence[Path], at: dt.datetime) -> dict[str, bool]:
    """Signature field → would the signature still validate at `at` (after its certificates expired),
    from the validation data and document timestamps in the file alone, assuming the firm keeps
    adding document timestamps before each TSA certificate expires (PAdES B-LTA, ETSI EN 319 102-1
    § 5.6.3; pyHanko's `simulate_future_ades_lta_validation`). No network: local data only.

    A report sealed without LTV has no DSS or document timestamp and fails this check.
    """
    import asyncio

    from pyhanko.sign.ades.report import AdESPassed
    from pyhanko.sign.validation.ades import simulate_future_ades_lta_validation
    from pyhanko.sign.validation.policy_decl import (
        PdfSignatureValidationSpec,
        RevinfoOnlineFetchingRule,
        RevocationInfoGatheringSpec,
        SignatureValidationSpec,
    )
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy, RevocationCheckingRule
    from pyhanko_certvalidator.registry import SimpleTrustManager

    from signing.trust import load_certificates

    try:
        roots = [c for p in trust_roots for c in load_certificates(p)]
        reader = IndexedPdfReader(io.BytesIO(Path(path).read_bytes()), strict=False)
        sigs = list(reader.embedded_regular_signatures)
    except (OSError, TrustFileError) as exc:
        raise VerifyError(str(exc)) from None
    rule = RevocationCheckingRule.CHECK_IF_DECLARED
    spec = PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(trust_roots=roots),
                revinfo_policy=CertRevTrustPolicy(
                    RevocationCheckingPolicy(ee_certificate_rule=rule, intermediate_ca_cert_rule=rule)
                ),
            ),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
        )
    )
    out = {}
    for sig in sigs:
        result = asyncio.run(simulate_future_ades_lta_validation(sig, spec, at))
        out[str(sig.field_name)] = result.ades_subindic == AdESPassed.OK
    return out


def verify_issued_report(path: Path | str, trust_roots: Sequence[Path] = (), *, crls: Sequence[Path] = (),
                         policy: CompletenessPolicy | None = None) -> tuple[VerificationReport, CompletenessReport]:
    """`verify_pdf`, then: is this the complete issued report (signing/completeness.py)? A report cut
    back to an earlier revision has only good signatures and still fails here. The completeness
    problems join the report's own, so `report.ok` is the whole verdict."""
    report = verify_pdf(path, trust_roots, crls=crls)
    try:
        completeness = check_completeness(Path(path).read_bytes(), policy or CompletenessPolicy())
    except Exception as exc:  # verify_pdf read it; a reader crash here is a failed check, not a traceback
        raise VerifyError(f"{path} 无法检查签名是否齐全（cannot check completeness）：{exc}") from None
    return replace(report, problems=report.problems + tuple(completeness.problems())), completeness
