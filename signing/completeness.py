"""What a complete issued report is, checked on the file alone.

Every signature of a report can be intact, valid and trusted while the report is still not the one
issued: cut back to an earlier revision (just after the firm seal, before the last handler, before the
document timestamp), each remaining signature still verifies. So verification also asks whether the
report carries everything an issued report carries:

- the case file embedded by the renderer (PDF/A-3 attachment), which names the firm and the handlers;
- the firm seal: the certification signature (DocMDP) in field `firm-seal` (`institution-seal`), by a certificate of the
  case's firm (subject O = the firm name);
- one signature per handler named in the case file, in `handler-1`, `handler-2` … in case order
  (CAR code 4.3; 资产评估法 Art. 27: signed by the appraisers who did the work), each by that handler's
  certificate (subject CN = the name, "name (DEMO)" for the demo PKI; the practising licence number in
  subject serialNumber, when the certificate carries one, = the case's licence_no);
- no signature field left empty (an empty field could be signed later by anyone with a certificate);
- when the firm's settings ask for them (`[signing] tsa_url`, `ltv = true`): a signature timestamp on
  every signature, and for LTV the validation data (DSS) and a document timestamp after the last
  signature (PAdES B-LTA, ETSI EN 319 142-1 § 6.3).

For a forensic appraisal (signing/signers.py) the seal is the institution's (`institution.name`) and the
signers depend on the document: the 司法鉴定意见书 carries every appraiser of `report.signatures`
(通则 Art 19), a 补正书 its `signed_by` (Art 41), every other document the seal alone. Which document a
PDF is, the institution's certification signature says (its /Reason, covered by the signature); a
forensic PDF whose seal records no role is judged by its fields (appraisers' fields → the 意见书).

A survey handler is identified by name and licence number, not by the organisation in the certificate:
one person's certificate can name the firm they first registered with. A forensic appraiser is identified
by name and licence number and must also be the institution's (subject O = `institution.name`, code
`wrong_organisation`) and, when the embedded case file carries the institution's register
(`institution.appraiser_register`), on it (`not_registered`): 通则 Art 19 has the institution designate its
own appraisers, and a signer certified by a survey firm or an insurer is not one of them. The seal is identified by the organisation.

Field names follow the kind (generator/signature_fields.py): `appraiser-N` / `institution-seal` on a
forensic document, `handler-N` / `firm-seal` on a survey report; a forensic PDF sealed before the fields
were named by role is judged by the names it carries.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields as sigfields

if TYPE_CHECKING:
    from signing.seal import SigningConfig

from signing.signers import (
    HANDLER_FIELD,
    ROLE_INSTITUTION,
    document_signers,
    firm_field,
    firm_name,
    infer_role,
    is_forensic,
    role_from_reason,
)

_DEMO_SUFFIX = " (DEMO)"
# X.520 ub-common-name: 64; signing.keys cuts demo common names to 64 UTF-8 bytes.
_CN_BYTES = 64


@dataclass(frozen=True)
class CompletenessPolicy:
    """What the firm's settings require of an issued report (from `[signing]` of gongu.toml)."""

    require_timestamp: bool = False
    require_ltv: bool = False

    @classmethod
    def from_config(cls, config: SigningConfig | None) -> CompletenessPolicy:
        if config is None:
            return cls()
        return cls(require_timestamp=config.ltv or bool(config.tsa_url), require_ltv=config.ltv)


@dataclass(frozen=True)
class Missing:
    """One thing an issued report should carry and this file does not."""

    field: str  # the signature field concerned, or "" for the whole report
    code: str  # machine-readable: no_case_file | unsigned | no_field | not_certified | wrong_signer | …
    message: str

    def __str__(self) -> str:
        return f"{self.field}：{self.message}" if self.field else self.message


@dataclass(frozen=True)
class CompletenessReport:
    firm: str | None
    handlers: tuple[str, ...]
    expected_fields: tuple[str, ...]
    signed_fields: tuple[str, ...]
    missing: tuple[Missing, ...] = field(default_factory=tuple)
    # Which document of the case the file is (signing.signers: "report", "correction-<n>",
    # "institution"); None without an embedded case file.
    role: str | None = None

    @property
    def complete(self) -> bool:
        return not self.missing

    def problems(self) -> list[str]:
        return [f"报告不完整（incomplete report）：{m}" for m in self.missing]


def name_fits(cert_name: str | None, name: str) -> bool:
    """Whether a certificate's common name is this person's (the demo PKI adds " (DEMO)"; a CN is cut at 64 bytes)."""
    if not cert_name:
        return False
    candidates = {name, name + _DEMO_SUFFIX}
    fitted = set()
    for c in candidates:
        while len(c.encode("utf-8")) > _CN_BYTES:
            c = c[:-1]
        fitted.add(c)
    return cert_name in candidates | fitted


def _subject(cert: Any) -> dict[str, str]:
    native = cert.subject.native
    return {k: str(v) for k, v in native.items() if isinstance(v, str)}


def _has_signature_timestamp(sig: Any) -> bool:
    """An RFC 3161 token among the signer's unsigned attributes (a PAdES signature timestamp)."""
    attrs = sig.signer_info["unsigned_attrs"]
    if attrs.native is None:
        return False
    return any(a["type"].native == "signature_time_stamp_token" for a in attrs)


def _case_people(case: dict[str, Any], role: str,
                 field_names: list[str]) -> tuple[str | None, list[tuple[str, str | None]], str]:
    """The firm (or institution), the people who sign the document of `role` in field order, and the template
    of their fields as this PDF names them (`appraiser-{}`, or `handler-{}`)."""
    if not is_forensic(case) and not isinstance(case.get("handlers"), list):
        return firm_name(case), [], HANDLER_FIELD
    try:
        document = document_signers(case, role).named_as_in(field_names)
    except ValueError:  # a role naming a correction the case file does not have
        document = document_signers(case, ROLE_INSTITUTION)
        return firm_name(case), [], document.person_field
    # The seal is the issuer's: the institution's, or a mediation committee's on its 调解记录 (Sichuan 五(一)).
    issuer = document.firm_name if document.own_seal else firm_name(case)
    people = [(p.name, str(p.licence_no) if p.licence_no else None) for p in document.people]
    return issuer, people, document.person_field


def _register_licences(case: dict[str, Any] | None) -> set[str]:
    """The 执业证号 on the institution's register in the embedded case file (`institution.appraiser_register`);
    empty when the case file has none (a document issued before registers were kept is not judged on it)."""
    institution = (case or {}).get("institution")
    entries = institution.get("appraiser_register") if isinstance(institution, dict) else None
    return {str(e["licence_no"]).strip() for e in entries or [] if isinstance(e, dict) and e.get("licence_no")}


def _recorded_role(sig: Any) -> str | None:
    try:
        return role_from_reason(str(sig.sig_object.get("/Reason", "")))
    except Exception:  # a damaged signature dictionary: judged by the fields instead
        return None


def check_completeness(pdf: bytes, policy: CompletenessPolicy = CompletenessPolicy()) -> CompletenessReport:
    """Is `pdf` a complete issued report? Reads the embedded case file, the signature fields, the
    signers' certificates, the DSS and document timestamps. Raises ValueError for an unreadable PDF."""
    from signing.embedded import embedded_case

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    fields = {name: value is not None for name, value, _ref in sigfields.enumerate_sig_fields(reader)}
    embedded = list(reader.embedded_signatures)
    by_field = {str(s.field_name): s for s in embedded if s.sig_object_type == "/Sig"}
    stamps = [s for s in embedded if s.sig_object_type == "/DocTimeStamp"]
    missing: list[Missing] = []
    try:
        case = embedded_case(pdf)
    except Exception:  # a hostile attachment: no case file to go by
        case = None
    forensic = case is not None and is_forensic(case)
    seal_field = firm_field(fields, forensic=forensic)
    role = None
    person_field = HANDLER_FIELD
    if case is None:
        missing.append(Missing("", "no_case_file", "报告中没有嵌入案件文件，无法确定应有的签名"
                                                   "（no embedded case file: cannot tell who must sign）"))
        firm_name, people = None, []
    else:
        role = ((_recorded_role(by_field[seal_field]) if seal_field in by_field and forensic else None)
                or infer_role(case, fields))
        firm_name, people, person_field = _case_people(case, role, list(fields))

    expected = [seal_field] + [person_field.format(i) for i in range(1, len(people) + 1)]
    if case is not None:
        for name in expected:
            if name not in fields:
                missing.append(Missing(name, "no_field", "报告中没有这个签名域（signature field missing）"))
    for name, signed in fields.items():
        if not signed:
            missing.append(Missing(name, "unsigned", "签名域未签署——报告是截断的早期修订版或未签完"
                                                     "（signature field left empty: an earlier revision or unfinished）"))

    firm_sig = by_field.get(seal_field)
    if firm_sig is not None:
        if firm_sig.docmdp_level is None:
            missing.append(Missing(seal_field, "not_certified", "机构签章不是认证签名（DocMDP）"
                                                                "（firm seal is not the certification signature）"))
        org = _subject(firm_sig.signer_cert).get("organization_name")
        if firm_name is not None and org != firm_name:
            kind = "鉴定机构" if case is not None and is_forensic(case) else "公估机构"
            missing.append(Missing(seal_field, "wrong_signer",
                                   f"机构签章证书属于「{org or _subject(firm_sig.signer_cert).get('common_name')}」，"
                                   f"不是本案{kind}「{firm_name}」（firm seal by another organisation）"))
    for index, (person, licence) in enumerate(people, start=1):
        name = person_field.format(index)
        sig = by_field.get(name)
        if sig is None:
            continue  # reported above as unsigned / no field
        subject = _subject(sig.signer_cert)
        cn = subject.get("common_name")
        serial = subject.get("serial_number")
        who = "鉴定人" if forensic else "承办人员"
        if not name_fits(cn, person) or (licence and serial and serial != licence):
            missing.append(Missing(name, "wrong_signer",
                                   f"签名证书属于「{cn}」{f'（执业证号 {serial}）' if serial else ''}，"
                                   f"不是{who}「{person}」{f'（执业证号 {licence}）' if licence else ''}"
                                   "（signed by someone other than the handler）"))
        elif forensic and licence and subject.get("organization_name") != firm_name:
            # 通则 Art 19: the institution's own appraisers sign its opinion; a certificate of another
            # organisation (a survey firm, an insurer) is not one of them, whoever the person is. A party
            # signing a draw record or a 调解记录 holds no 执业证号 and belongs to no institution.
            org = subject.get("organization_name")
            missing.append(Missing(name, "wrong_organisation",
                                   f"鉴定人「{person}」的签名证书属于「{org or '未载明机构'}」，不是出具本文书的鉴定机构"
                                   f"「{firm_name}」（appraiser's certificate names another organisation）"))
        elif forensic and licence and (registered := _register_licences(case)) and licence not in registered:
            missing.append(Missing(name, "not_registered",
                                   f"鉴定人「{person}」（执业证号 {licence or '—'}）不在案件文件所载鉴定机构「{firm_name}」"
                                   "的执业鉴定人名册上（appraiser not on the institution's register）"))
    for name in by_field:
        if name not in expected and case is not None:
            missing.append(Missing(name, "unexpected_signature",
                                   "案件文件中没有对应的签署人（a signature no one in the case file should make）"))

    if policy.require_timestamp:
        for name, sig in sorted(by_field.items()):
            if not _has_signature_timestamp(sig):
                missing.append(Missing(name, "no_timestamp", "缺少签名时间戳，而本机构设置要求时间戳"
                                                              "（no signature timestamp; [signing] requires one）"))
    if policy.require_ltv:
        try:
            from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError

            DocumentSecurityStore.read_dss(reader)
        except NoDSSFoundError:
            missing.append(Missing("", "no_dss", "缺少长期验证数据（DSS），而本机构设置 ltv = true"
                                                 "（no validation data; [signing] ltv = true）"))
        last_sig = max((s.signed_revision for s in by_field.values()), default=-1)
        if not any(s.signed_revision > last_sig for s in stamps):
            missing.append(Missing("", "no_document_timestamp",
                                   "最后一个签名之后缺少文档时间戳（PAdES B-LTA），而本机构设置 ltv = true"
                                   "（no document timestamp after the last signature）"))

    signed = tuple(n for n, s in fields.items() if s)
    return CompletenessReport(
        firm=firm_name,
        handlers=tuple(p for p, _l in people),
        expected_fields=tuple(expected) if case is not None else (),
        signed_fields=signed,
        missing=tuple(missing),
        role=role,
    )
