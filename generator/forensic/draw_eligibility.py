"""Who may be drawn (Sichuan 二(三), 二(四); 通则 Art 15, 20–21, 32): the scopes a matter needs, the
exclusion rules with their clauses, and the eligible list from a roster snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from generator.forensic.draw_record import (
    DrawRefused,
    nfc,
)
from generator.forensic.roster import RosterEntry

# The scope (业务范围) a matter needs: every matter of an insurance claim is 法医临床 work.
MATTER_SCOPES: dict[str, str] = {
    "disability_grade": "法医临床鉴定",
    "lost_work_period": "法医临床鉴定",
    "care_period": "法医临床鉴定",
    "nutrition_period": "法医临床鉴定",
    "injury_degree": "法医临床鉴定",
    "causation": "法医临床鉴定",
}

# The exclusion rules, each with the clause it comes from.
RULES: dict[str, tuple[str, str]] = {
    "scope": ("业务范围不涵盖鉴定事项", "Sichuan 二(三)；通则 Art 15"),
    "conflict": ("当事人声明的利害关系", "通则 Art 20"),
    "recusal": ("当事人申请回避", "通则 Art 20–21"),
    "reappraisal_original": ("重新鉴定不得由原鉴定机构进行", "通则 Art 32；Sichuan 二(四)"),
    "reappraisal_qualification": ("资质条件低于原鉴定机构", "通则 Art 32；Sichuan 二(四)"),
    "reappraisal_senior": ("没有高级专业技术职称的鉴定人", "通则 Art 32；Sichuan 二(四)"),
}


@dataclass(frozen=True)
class Objection:
    """A declared conflict of interest or a recusal request against one institution (通则 Art 20–21)."""

    licence_no: str
    declared_by: str
    reason: str
    kind: str = "conflict"  # or "recusal"

    def as_dict(self) -> dict[str, str]:
        return {"licence_no": self.licence_no, "declared_by": self.declared_by, "reason": self.reason, "kind": self.kind}


@dataclass(frozen=True)
class Original:
    """The institution whose opinion a re-appraisal re-examines."""

    licence_no: str
    name: str
    scopes: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"licence_no": self.licence_no, "name": self.name, "scopes": list(self.scopes)}


@dataclass
class Eligibility:
    eligible: list[RosterEntry]
    exclusions: list[dict[str, str]] = field(default_factory=list)


def scope_category(scope: str) -> str:
    """The category a scope belongs to: the 法医类 scopes form one, any other scope is its own."""
    return "法医类" if scope.startswith("法医") else scope


def relevant_original_scopes(original: Original, required_scopes: Sequence[str]) -> list[str]:
    """"Qualification not lower than the original's" (通则 Art 32, Sichuan 二(四)), made concrete: the
    new institution holds every scope the original held in the categories of the matters (e.g. all of
    the original's 法医类 scopes for a 法医临床 matter). A reasonable default: the rules name no measure;
    a firm that needs another one states it in the draw record's `reappraisal`."""
    categories = {scope_category(s) for s in required_scopes}
    return sorted({s for s in original.scopes if scope_category(s) in categories})


def _exclusion(entry: RosterEntry, rule: str, detail: str) -> dict[str, str]:
    title, clause = RULES[rule]
    return {"licence_no": entry.licence_no, "name": entry.name, "rule": rule, "clause": clause,
            "reason": f"{title}：{detail}"}


def eligibility(
    entries: Sequence[RosterEntry],
    required_scopes: Sequence[str],
    objections: Sequence[Objection] = (),
    original: Original | None = None,
) -> Eligibility:
    """Who may be drawn; every excluded institution listed once per rule it fails, with the reason.
    An objection naming a licence that is not in the roster is refused (a typo must not pass silently)."""
    required_scopes = [nfc(s) for s in required_scopes]  # the roster's text is NFC; so is the comparison
    known = {e.licence_no for e in entries}
    for o in objections:
        if o.licence_no not in known:
            raise DrawRefused(f"回避或利害关系声明所指的许可证号 {o.licence_no} 不在名册中")
        if o.kind not in ("conflict", "recusal"):
            raise DrawRefused(f"未知的声明类别 {o.kind}（应为 conflict 或 recusal）")
    relevant = relevant_original_scopes(original, required_scopes) if original else []
    result = Eligibility(eligible=[])
    for entry in sorted(entries, key=lambda e: e.sort_key):
        reasons: list[dict[str, str]] = []
        missing = [s for s in required_scopes if s not in entry.scopes]
        if missing:
            reasons.append(_exclusion(entry, "scope", f"缺少 {'、'.join(missing)}"))
        for o in objections:
            if o.licence_no == entry.licence_no:
                reasons.append(_exclusion(entry, o.kind, f"{o.declared_by}：{o.reason}"))
        if original is not None:
            if entry.licence_no == original.licence_no:
                reasons.append(_exclusion(entry, "reappraisal_original", f"原鉴定机构 {original.name}"))
            lacking = [s for s in relevant if s not in entry.scopes]
            if lacking:
                reasons.append(_exclusion(entry, "reappraisal_qualification", f"原鉴定机构具有而本机构没有：{'、'.join(lacking)}"))
            if not entry.senior_appraisers:
                reasons.append(_exclusion(entry, "reappraisal_senior", "名册未列出具有高级专业技术职称的鉴定人"))
        if reasons:
            result.exclusions.extend(reasons)
        else:
            result.eligible.append(entry)
    return result


def refuse_empty(result: Eligibility) -> None:
    """No draw from an empty list: say which rules emptied it, with their clauses."""
    if result.eligible:
        return
    clauses = sorted({f"{RULES[x['rule']][0]}（{x['clause']}）" for x in result.exclusions})
    raise DrawRefused("没有符合条件的鉴定机构，不能抽取；排除依据：" + "；".join(clauses))
