"""Retention classes (10.4; 资产评估法 Art. 29): ordinary ≥ 15 years, statutory ≥ 30 years; forensic
appraisal files ≥ 30 years (广东省司法鉴定管理条例 2022 Art 51). The classes are data
(forms/retention.toml), overridable per firm but never below the legal minimum.

The period starts on the latest of three dates (`retention_start`): the closure recorded in the case
file, the issuance the system saw (the report's sealing / issue time) and the ingest. The code counts
"不少于" N years from closure (10.1: closure follows the report's delivery); a closure typed years back
must not shorten what the archive keeps from the day it received the report, so only facts the
archive saw itself can move the start earlier than today's ingest — none can."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from typing import TYPE_CHECKING, Any

from generator.types import beijing_date

if TYPE_CHECKING:
    from generator.kinds import Case


class RetentionConfigError(ValueError):
    pass


@dataclass(frozen=True)
class RetentionClass:
    name: str
    title: str
    years: int
    legal_minimum_years: int
    basis: str

    def until(self, closed: date) -> date:
        """Closure date plus `years`; 29 Feb rolls forward to 1 Mar (never shorter than the law)."""
        try:
            return closed.replace(year=closed.year + self.years)
        except ValueError:
            return date(closed.year + self.years, 3, 1)


def default_table() -> dict[str, Any]:
    text = resources.files("forms").joinpath("retention.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def load_classes(overrides: dict[str, Any] | None = None) -> dict[str, RetentionClass]:
    table = default_table()
    for name, values in (overrides or {}).items():
        if name not in table:
            raise RetentionConfigError(f"未知的保管期限类别：{name}（只有 {', '.join(table)}）")
        if not isinstance(values, dict):
            raise RetentionConfigError(f"保管期限类别 {name} 的配置应为表")
        table[name] = {**table[name], **{k: v for k, v in values.items() if k != "legal_minimum_years"}}
    classes: dict[str, RetentionClass] = {}
    for name, v in table.items():
        years, minimum = v.get("years"), v.get("legal_minimum_years")
        if not isinstance(years, int) or isinstance(years, bool) or not isinstance(minimum, int):
            raise RetentionConfigError(f"保管期限类别 {name}：years 应为整数年")
        if years < minimum:
            raise RetentionConfigError(
                f"保管期限类别 {name}：{years} 年短于法定最低 {minimum} 年（{v.get('basis', '10.4')}）")
        classes[name] = RetentionClass(name, str(v.get("title", name)), years, minimum, str(v.get("basis", "")))
    for required in ("ordinary", "statutory", "forensic"):
        if required not in classes:
            raise RetentionConfigError(f"缺少保管期限类别 {required}")
    return classes


def class_for(case: Case, classes: dict[str, RetentionClass]) -> RetentionClass:
    """The class a case is kept under, chosen by its kind. A forensic appraisal: at least 30 years
    (no national rule; 广东省司法鉴定管理条例 2022 Art 51). A survey (10.4): statutory work (法定公估业务)
    at least 30 years, everything else at least 15."""
    if case.kind == "forensic_appraisal":
        return classes["forensic"]
    return classes["statutory" if getattr(case, "statutory", False) else "ordinary"]


@dataclass(frozen=True)
class RetentionStart:
    """The dates retention may start from (Beijing dates) and the latest of them."""

    closure: date
    issuance: date | None
    ingest: date

    @property
    def start(self) -> date:
        return max(d for d in (self.closure, self.issuance, self.ingest) if d is not None)

    @property
    def counted_from(self) -> str:
        """Which fact set the start ("ingest" on a tie with it: the archive's own)."""
        start = self.start
        return "ingest" if self.ingest == start else "issuance" if self.issuance == start else "closure"

    def as_dict(self) -> dict[str, str | None]:
        return {"closure": self.closure.isoformat(),
                "issuance": None if self.issuance is None else self.issuance.isoformat(),
                "ingest": self.ingest.isoformat()}


def retention_start(closed_at: datetime, issued_at: datetime | date | None, ingested_at: datetime) -> RetentionStart:
    """10.4 counted from the latest of closure, issuance and ingest, each as a Beijing date."""
    issued = beijing_date(issued_at) if isinstance(issued_at, datetime) else issued_at
    return RetentionStart(beijing_date(closed_at), issued, beijing_date(ingested_at))


def retention_until(closed_at: datetime, cls: RetentionClass) -> date:
    # Counted from the Beijing closure date: 2025-12-31T20:00Z closed on 2026-01-01 in Beijing.
    return cls.until(beijing_date(closed_at))
