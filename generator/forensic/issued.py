"""The opinion as it was issued, and what a case file has changed in it since (通则 Art 41).

A 补正书 may correct wording, never the opinion. Whether it does is decided by comparing the case as it
stands with the case data the issued 司法鉴定意见书 carries (the `case.json` attached to the issued PDF/A,
or to its archived copy) — never by a flag the case file sets about itself. This module only compares;
finding the issued copy is the application's business (gongu.pipeline.issued_opinion), which hands it to the
rules as `RuleContext.issued`.

What counts as the opinion: every result's `outcome`, `grade`, `clause` and `days` exactly, the set of
matters answered, and the words of each result's `text` and of `report.opinion`. A change of words is a
correction when the recorded 补正 items (before → after) account for it and it leaves the conclusion
words as they were (grades, 未构成伤残等级, day counts, injury degrees); anything else changes the opinion.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from generator.forensic.model import ForensicAppraisalCase, MatterResult

# The result fields that are the conclusion itself, with their Chinese titles (model.MatterResult).
_EXACT_FIELDS = (("outcome", "鉴定结果"), ("grade", "伤残等级"), ("clause", "标准条款"), ("days", "天数"))

# Words that state a conclusion inside free text: a disability grade, its absence, a period in days or
# months (not the day of a date: 5月12日), an injury degree (《人体损伤程度鉴定标准》 重伤/轻伤 一级/二级, 轻微伤).
_CONCLUSION_WORDS = re.compile(
    r"[一二三四五六七八九十]+级伤残|未构成伤残等级?|未达到评定时机|(?<![月\d])\d+\s*(?:日|天|个月|周)|"
    r"(?:重伤|轻伤)[一二]级|轻微伤|重伤|轻伤")


@dataclass(frozen=True)
class IssuedOpinion:
    """The case data embedded in the issued 意见书 of report `number`, and where it was read."""

    number: str
    source: str  # the issued PDF (or the archived package's copy) the data was read from
    data: Mapping[str, Any]


@dataclass(frozen=True)
class OpinionChange:
    """One difference between the issued opinion and the case: where (JSON path), what (Chinese title)."""

    path: str
    title: str
    issued: Any
    current: Any


def _squeeze(text: Any) -> str:
    return re.sub(r"\s+", "", text) if isinstance(text, str) else ""


def _conclusion_words(text: str) -> list[str]:
    return [re.sub(r"\s+", "", m) for m in _CONCLUSION_WORDS.findall(text)]


def _corrected(text: str, replacements: Iterable[tuple[str, str]]) -> str:
    for before, after in replacements:
        text = text.replace(before, after)
    return text


def _text_changed(issued: Any, current: Any, replacements: list[tuple[str, str]]) -> bool:
    """Whether the words moved beyond what a correction may do (see the module docstring)."""
    old, new = _squeeze(issued), _squeeze(current)
    if old == new:
        return False
    if _conclusion_words(old) != _conclusion_words(new):
        return True
    return _corrected(old, replacements) != new


def _issued_results(data: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    results = data.get("results")
    if not isinstance(results, list):
        return {}
    return {str(r["matter"]): r for r in results if isinstance(r, Mapping) and "matter" in r}


def _current(result: MatterResult, key: str) -> Any:
    value = getattr(result, key)
    return getattr(value, "value", value)  # an enum as its JSON value


def opinion_changes(issued: Mapping[str, Any], case: ForensicAppraisalCase) -> list[OpinionChange]:
    """Every way `case` differs from the issued opinion `issued` (the issued case data), in case order."""
    replacements = [(_squeeze(item.before), _squeeze(item.after)) for c in case.corrections for item in c.items]
    before = _issued_results(issued)
    out: list[OpinionChange] = []
    seen: set[str] = set()
    for i, result in enumerate(case.results):
        seen.add(result.matter)
        old = before.get(result.matter)
        if old is None:
            out.append(OpinionChange(f"$.results[{i}]", f"鉴定事项 {result.matter} 的鉴定结果（出具时没有）",
                                     None, result.matter))
            continue
        for key, title in _EXACT_FIELDS:
            if old.get(key) != _current(result, key):
                out.append(OpinionChange(f"$.results[{i}].{key}", f"鉴定事项 {result.matter} 的{title}",
                                         old.get(key), _current(result, key)))
        if _text_changed(old.get("text"), result.text, replacements):
            out.append(OpinionChange(f"$.results[{i}].text", f"鉴定事项 {result.matter} 的意见表述",
                                     old.get("text"), result.text))
    for matter in before:
        if matter not in seen:
            out.append(OpinionChange("$.results", f"鉴定事项 {matter} 的鉴定结果（已删除）", matter, None))
    report = issued.get("report")
    old_opinion = report.get("opinion") if isinstance(report, Mapping) else None
    if _text_changed(old_opinion, case.report.opinion, replacements):
        out.append(OpinionChange("$.report.opinion", "司法鉴定意见书 / 鉴定意见", old_opinion, case.report.opinion))
    return out
