"""Who signs which document, read from the case file as JSON (both case kinds).

- Survey report (`car_survey`): the firm's seal, then every handler of `handlers` in case order
  (CAR code 4.3: at least two; 资产评估法 Art. 27).
- Forensic appraisal (`forensic_appraisal`): the institution's 司法鉴定专用章 (通则 Art 36–40), then
  - on the 司法鉴定意见书 (role "report"): the appraisers of `report.signatures`, in that order, with
    their 执业证号 and title from `appraisers` — at least two (通则 Art 19);
  - on a 司法鉴定意见补正书 (role "correction-<n>", n counting `corrections` from 1): the appraisers of
    that correction's `signed_by` — at least one (通则 Art 41);
  - on a 司法鉴定补充意见书 (role "supplementary-<n>", n counting `supplementary` from 1): the appraisers
    of that supplementary appraisal — at least two, as the 意见书 it belongs to (通则 Art 19, 30);
  - on a 鉴定人解释说明 (role "dispute-<i>-step-<j>", a step of kind `explanation`): the appraisers who
    explained, the step's `appraisers` — at least one (Sichuan 五(一): 由鉴定机构及鉴定人作出解释和说明);
  - on the 随机选择鉴定机构记录 (role "draw"): each side that took part in the choice, `selection.agreed_by`
    — the chosen institution benefits from the draw, so the record is not its word alone (Sichuan 二(三));
  - on every other document (委托书, 告知书, records …, and a terminated case's 终止鉴定告知书, role
    "institution"): the institution alone.
- A 调解记录 (role "dispute-<i>-step-<j>", a step of kind `mediation`) is not the institution's document: the
  mediation committee (`steps[].by`) issues it under its own name and seal (Sichuan 五(一): the associations'
  纠纷调解组织), signed by the parties who took part, the step's `participants` — at least two, the party
  and the insurer. Its seal key must be configured under the committee's name ([signing.firms]); the
  institution's key never stands in for it.

Field names say the role (generator/signature_fields.py): a survey report's `handler-N` and `firm-seal`, a
forensic document's `appraiser-N` and `institution-seal`. A forensic PDF rendered before the fields were
named by role (`handler-N`, `firm-seal` or `firm`) is still sealed and verified by the names it carries.

The role of a forensic document is written into the institution's certification signature (its
/Reason, which the signature covers), so verification knows from the file alone whose signatures a
complete document carries: nobody without the institution's key can claim a different role.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from generator.signature_fields import (
    APPRAISER_FIELD,
    FIRM_SEAL_FIELD,
    HANDLER_FIELD,
    INSTITUTION_SEAL_FIELD,
    PARTY_FIELD,
)

FORENSIC_KIND = "forensic_appraisal"
FIRM_FIELD = FIRM_SEAL_FIELD
# The seal's field: the institution's by role, or a firm's; older forensic documents say "firm-seal" or "firm".
FIRM_FIELD_ALIASES = (INSTITUTION_SEAL_FIELD, FIRM_FIELD, "firm")

ROLE_REPORT = "report"
ROLE_INSTITUTION = "institution"
ROLE_DRAW = "draw"
_CORRECTION_ROLE = re.compile(r"^correction-(\d+)$")
_SUPPLEMENTARY_ROLE = re.compile(r"^supplementary-(\d+)$")
# A step of a dispute with signers of its own (generator.forensic.documents keys it dispute-<i>-step-<j>).
_DISPUTE_STEP_ROLE = re.compile(r"^dispute-(\d+)-step-(\d+)$")
# "…（document: report）" at the end of the institution seal's /Reason.
_ROLE_MARK = re.compile(
    r"document: (report|institution|draw|correction-\d+|supplementary-\d+|dispute-\d+-step-\d+)）?\s*$")
# The seal of the associations' mediation committee (Sichuan 五(一)); the words of the drawn seal. [default]
MEDIATION_SEAL = "调解专用章"


@dataclass(frozen=True)
class Signatory:
    """One person who signs, as the case file names them."""

    name: str
    licence_no: str | None = None
    role: str | None = None  # survey: the handler's role; forensic: the appraiser's professional title
    label: str = "承办人员"  # printed before the name in the visible signature ("鉴定人" for an appraiser)
    licensed: bool = True  # False for a party (当事人): no 执业证号 line in the visible signature


@dataclass(frozen=True)
class DocumentSigners:
    """The seal and the signatures one document carries."""

    firm_name: str
    seal_purpose: str  # the words under the star of a drawn seal
    people: tuple[Signatory, ...]
    role: str  # "report" | "correction-<n>" | "supplementary-<n>" | "dispute-<i>-step-<j>" | "draw" | "institution"
    # (minimum number of people, the clause that sets it); None: the institution (firm) seals alone.
    minimum: tuple[int, str] | None
    forensic: bool = False
    # The n-th person's field: `appraiser-{}` on a forensic document, `handler-{}` on a survey report.
    person_field: str = HANDLER_FIELD
    # The seal is not the institution's (a mediation committee's): its key only under its own name.
    own_seal: bool = False
    # Who signs, in the refusal and the signatures' /Reason: (Chinese, English, the clause's words).
    signer_words: tuple[str, str] | None = None

    @property
    def fields(self) -> list[str]:
        return [self.person_field.format(i) for i in range(1, len(self.people) + 1)]

    def named_as_in(self, field_names: Iterable[str]) -> DocumentSigners:
        """This document with the person fields named as the PDF names them: a forensic PDF rendered before
        fields were named by role carries `handler-N` and no `appraiser-N`."""
        names = list(field_names)
        if self.forensic and not any(n.startswith("appraiser-") for n in names) \
                and any(n.startswith("handler-") for n in names):
            return replace(self, person_field=HANDLER_FIELD)
        return self

    def too_few(self) -> str | None:
        """The refusal when fewer people sign than the clause asks, in Chinese then English."""
        if self.minimum is None or len(self.people) >= self.minimum[0]:
            return None
        least, clause = self.minimum
        who, whom = self.signer_words or (("鉴定人", "appraisers") if self.forensic else ("承办人员", "handlers"))
        return (f"至少需要{_count(least)}名{who}签名，当前 {len(self.people)} 名"
                f"（at least {least} {whom} must sign, {clause}）")

    def firm_reason(self, title: str | None = None) -> str:
        """The /Reason of the certification signature; for a forensic document it names the role."""
        if not self.forensic:
            return "公估机构盖章 — 证明报告自盖章后未被篡改（firm seal, certifies the report）"
        what = f"「{title}」" if title else "文书"
        issuer = "调解组织" if self.own_seal else "鉴定机构"
        return f"{issuer}加盖{self.seal_purpose} — 证明{what}自盖章后未被篡改（document: {self.role}）"

    def person_reason(self, person: Signatory) -> str:
        if not self.forensic:
            return f"承办人员签名（资产评估法第二十七条）— {person.name}"
        if self.role == ROLE_DRAW:
            return f"参与选定的当事人签名（川司鉴协〔2022〕7号 二（三））— {person.name}"
        if self.own_seal:
            return f"参加调解的当事人签名（川司鉴协〔2022〕7号 五（一））— {person.name}"
        clause = ("司法鉴定程序通则第四十一条" if self.role.startswith("correction-") else
                  "司法鉴定程序通则第三十条" if self.role.startswith("supplementary-") else
                  "川司鉴协〔2022〕7号 五（一）" if self.role.startswith("dispute-") else "司法鉴定程序通则第十九条")
        return f"鉴定人签名（{clause}）— {person.name}"


def _count(n: int) -> str:
    return {1: "一", 2: "两", 3: "三"}.get(n, str(n))


def is_forensic(raw: dict[str, Any] | None) -> bool:
    return isinstance(raw, dict) and raw.get("kind") == FORENSIC_KIND


def firm_name(raw: dict[str, Any] | None) -> str | None:
    """The firm (survey) or the institution (forensic) that seals; None when the case names none."""
    if not isinstance(raw, dict):
        return None
    holder = raw.get("institution") if is_forensic(raw) else raw.get("firm")
    return str(holder["name"]) if isinstance(holder, dict) and holder.get("name") else None


def _appraiser(raw: dict[str, Any], name: str) -> Signatory:
    for a in raw.get("appraisers") or []:
        if isinstance(a, dict) and a.get("name") == name:
            return Signatory(name, a.get("licence_no"), a.get("title"), label="鉴定人")
    return Signatory(name, None, None, label="鉴定人")


def _party(name: str) -> Signatory:
    return Signatory(name, None, None, label="当事人", licensed=False)


def dispute_step(raw: dict[str, Any], role: str) -> dict[str, Any] | None:
    """The step of `disputes` a role "dispute-<i>-step-<j>" names (both counted from 1), or None."""
    match = _DISPUTE_STEP_ROLE.match(role)
    if not match:
        return None
    disputes = raw.get("disputes") or []
    i, j = int(match[1]), int(match[2])
    if not 1 <= i <= len(disputes) or not isinstance(disputes[i - 1], dict):
        return None
    steps = disputes[i - 1].get("steps") or []
    step = steps[j - 1] if 1 <= j <= len(steps) else None
    return step if isinstance(step, dict) else None


def _forensic_people(raw: dict[str, Any], role: str) -> tuple[Signatory, ...]:
    if role == ROLE_REPORT:
        report = raw.get("report") if isinstance(raw.get("report"), dict) else {}
        names = [str(s["appraiser"]) for s in report.get("signatures") or []
                 if isinstance(s, dict) and s.get("appraiser")]
    elif match := _CORRECTION_ROLE.match(role):
        corrections = raw.get("corrections") or []
        index = int(match[1])
        if not 1 <= index <= len(corrections) or not isinstance(corrections[index - 1], dict):
            raise ValueError(f"案件文件中没有第 {index} 份补正（no correction {index} in the case file）")
        names = [str(n) for n in corrections[index - 1].get("signed_by") or []]
    elif match := _SUPPLEMENTARY_ROLE.match(role):
        supplementary = raw.get("supplementary") or []
        index = int(match[1])
        if not 1 <= index <= len(supplementary) or not isinstance(supplementary[index - 1], dict):
            raise ValueError(f"案件文件中没有第 {index} 份补充鉴定（no supplementary appraisal {index} in the case file）")
        names = [str(n) for n in supplementary[index - 1].get("appraisers") or []]
    elif role == ROLE_DRAW:
        selection = raw.get("selection") if isinstance(raw.get("selection"), dict) else {}
        return tuple(_party(str(n)) for n in selection.get("agreed_by") or [])
    elif _DISPUTE_STEP_ROLE.match(role):
        step = dispute_step(raw, role)
        if step is None:
            raise ValueError(f"案件文件中没有争议处理步骤 {role}（no dispute step {role} in the case file）")
        if step.get("kind") == "mediation":
            return tuple(_party(str(n)) for n in step.get("participants") or [])
        names = [str(n) for n in step.get("appraisers") or []]
    else:
        names = []
    return tuple(_appraiser(raw, n) for n in names)


def document_signers(raw: dict[str, Any], role: str = ROLE_REPORT) -> DocumentSigners:
    """Who seals and signs the document of `role` of this case (see the module docstring)."""
    if not is_forensic(raw):
        people = tuple(Signatory(str(h["name"]), h.get("licence_no"), h.get("role"))
                       for h in raw.get("handlers", []) if isinstance(h, dict) and h.get("name"))
        return DocumentSigners(firm_name(raw) or "公估机构", "公估专用章", people, ROLE_REPORT, (2, "4.3"))
    if role not in (ROLE_INSTITUTION, ROLE_REPORT, ROLE_DRAW) and not _CORRECTION_ROLE.match(role) \
            and not _SUPPLEMENTARY_ROLE.match(role) and not _DISPUTE_STEP_ROLE.match(role):
        raise ValueError(f"未知的文书签署角色 {role}（unknown document role）")
    people = _forensic_people(raw, role)
    step = dispute_step(raw, role)
    if step is not None and step.get("kind") == "mediation":
        # Sichuan 五(一): the committee's record, under its name and seal; the party and the insurer sign.
        return DocumentSigners(str(step.get("by") or "纠纷调解组织"), MEDIATION_SEAL, people, role,
                               (2, "Sichuan 五(一)"), forensic=True, own_seal=True, person_field=PARTY_FIELD,
                               signer_words=("参加调解的当事人", "parties who took part"))
    if role == ROLE_DRAW:
        # Sichuan 二(三): every side that chose certifies the draw, not only the institution it chose.
        return DocumentSigners(firm_name(raw) or "司法鉴定机构", "司法鉴定专用章", people, role, (1, "Sichuan 二(三)"),
                               forensic=True, signer_words=("参与选定的当事人", "parties who took part"),
                               person_field=PARTY_FIELD)
    if step is not None:  # an explanation: the appraisers who explained (Sichuan 五(一))
        return DocumentSigners(firm_name(raw) or "司法鉴定机构", "司法鉴定专用章", people, role, (1, "Sichuan 五(一)"),
                               forensic=True, person_field=APPRAISER_FIELD)
    if role == ROLE_REPORT:
        minimum: tuple[int, str] | None = (2, "通则 Art 19")  # two appraisers per matter
    elif _SUPPLEMENTARY_ROLE.match(role):
        minimum = (2, "通则 Art 19, 30")  # part of the original opinion: two appraisers, as it
    elif role == ROLE_INSTITUTION:
        minimum = None
    else:
        minimum = (1, "通则 Art 41")  # a correction carries at least one appraiser's signature
    return DocumentSigners(firm_name(raw) or "司法鉴定机构", "司法鉴定专用章", people, role, minimum, forensic=True,
                           person_field=APPRAISER_FIELD)


def correction_role(raw: dict[str, Any], key: str, title: str = "") -> str | None:
    """The role "correction-<n>" of a rendered 补正书, found by its number in the document's title or key,
    else by a trailing number in the key (correction-1, correction_2 …); None if it is no correction."""
    corrections = [c for c in raw.get("corrections") or [] if isinstance(c, dict)]
    for index, c in enumerate(corrections, start=1):
        number = str(c.get("number") or "")
        if number and (number in title or number in key):
            return f"correction-{index}"
    if "correction" in key or "补正" in title:
        match = re.search(r"(\d+)$", key)
        if match and 1 <= int(match[1]) <= len(corrections):
            return f"correction-{int(match[1])}"
        if len(corrections) == 1:
            return "correction-1"
    return None


def document_role(raw: dict[str, Any], *, key: str, title: str = "", primary: bool) -> str:
    """The signing role of a rendered document: the primary document, a 补正书, a 补充意见书, or the institution alone.
    A terminated appraisal's primary document is the 终止鉴定告知书 (通则 Art 29), sealed by the institution
    alone: no opinion is given, so no appraiser signs one."""
    if not is_forensic(raw):
        return ROLE_REPORT
    if primary:
        return ROLE_INSTITUTION if raw.get("termination") else ROLE_REPORT
    if key == ROLE_DRAW:
        return ROLE_DRAW
    step = dispute_step(raw, key)
    if step is not None and step.get("kind") in SIGNED_STEPS:
        return key
    return correction_role(raw, key, title) or supplementary_role(raw, key) or ROLE_INSTITUTION


# The dispute steps whose record carries signatures besides (or instead of) the institution's seal.
SIGNED_STEPS = ("mediation", "explanation")


def supplementary_role(raw: dict[str, Any], key: str) -> str | None:
    """The role "supplementary-<n>" of a rendered 补充意见书 (key `supplementary-<n>`, generator.forensic.documents)."""
    match = re.fullmatch(r"supplementary-(\d+)", key)
    if match and 1 <= int(match[1]) <= len(raw.get("supplementary") or []):
        return f"supplementary-{int(match[1])}"
    return None


def role_from_reason(reason: str | None) -> str | None:
    """The role recorded in the institution seal's /Reason by `DocumentSigners.firm_reason`."""
    match = _ROLE_MARK.search(reason or "")
    return match[1] if match else None


def infer_role(raw: dict[str, Any], field_names: Iterable[str], *, title: str | None = None,
               keywords: Iterable[str] = ()) -> str:
    """Without a recorded role: a forensic PDF titled 随机选择鉴定机构记录 is the draw record; one titled as a
    调解记录 or 解释说明 is the dispute step whose `number` its keywords name (the renderer writes the document's
    number there); otherwise a PDF with appraisers' fields is the 意见书, one without is sealed by the
    institution alone. A survey report is always the report."""
    if not is_forensic(raw):
        return ROLE_REPORT
    if title is not None:
        # The titles the renderer gives these documents (one place: generator.forensic).
        from generator.forensic.documents import STEP_DOCUMENT_TITLES
        from generator.forensic.draw_document import TITLE as DRAW_TITLE

        if title == DRAW_TITLE:
            return ROLE_DRAW
        kinds = {t: k.value for k, t in STEP_DOCUMENT_TITLES.items() if k.value in SIGNED_STEPS}
        words = set(keywords)
        for i, d in enumerate((raw.get("disputes") or []) if title in kinds else [], start=1):
            for j, st in enumerate((d.get("steps") or []) if isinstance(d, dict) else [], start=1):
                if isinstance(st, dict) and st.get("kind") == kinds[title] and st.get("number") in words:
                    return f"dispute-{i}-step-{j}"
    return ROLE_REPORT if any(n.startswith(("appraiser-", "handler-")) for n in field_names) else ROLE_INSTITUTION


def firm_field(field_names: Iterable[str], *, forensic: bool = False) -> str:
    """The name of the seal's field in this PDF (`institution-seal`, `firm-seal` or `firm`); when none exists,
    the name the kind's renderer gives it."""
    names = set(field_names)
    return next((n for n in FIRM_FIELD_ALIASES if n in names), INSTITUTION_SEAL_FIELD if forensic else FIRM_FIELD)


# What a signature field holds, for people reading `gongu verify` (by the field's name and the case kind).
SEAL_TITLES = {True: "司法鉴定专用章", False: "公估机构印章"}


def field_role_title(field: str, raw: dict[str, Any] | None) -> str:
    """The role of the signature in `field`: 鉴定人, 司法鉴定专用章, 承办人员（主办公估师）, 公估机构印章 …"""
    forensic = is_forensic(raw)
    if field in FIRM_FIELD_ALIASES:
        return SEAL_TITLES[forensic or field == INSTITUTION_SEAL_FIELD]
    match = re.fullmatch(r"(appraiser|handler|party)-(\d+)", field)
    if match is None:
        return "签名"
    if match[1] == "party":
        return "当事人"
    if forensic or match[1] == "appraiser":
        return "鉴定人"
    handlers = [h for h in (raw or {}).get("handlers") or [] if isinstance(h, dict)]
    index = int(match[2])
    role = handlers[index - 1].get("role") if 1 <= index <= len(handlers) else None
    return f"承办人员（{role}）" if role else "承办人员"
