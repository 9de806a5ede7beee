"""Small CAR cases built in Python for the engine and loader tests.

`minimal_case()` is the smallest valid case file (as parsed JSON: amounts are strings, never floats);
`build()` overrides the parts the adjustment rules read — items, losses, deductibles, rescue costs,
other insurance — and validates through the real loader, so every test case is a legal case file.
"""

from __future__ import annotations

import copy
from typing import Any

from generator.loading import validate_data
from generator.model import CarSurveyCase

_MINIMAL: dict[str, Any] = {
    "kind": "car_survey",
    "case_id": "T-0001",
    "case_name": "测试案件",
    "firm": {"name": "测试公估有限公司", "address": "上海市浦东新区世纪大道100号", "post_code": "200120",
             "hotline": "021-0000 0000", "business_scope": "保险公估"},
    "commission": {"type": "insurer", "commissioning_party": "某财产保险股份有限公司",
                   "received_at": "2025-01-02T09:00:00", "subject": "在建工程", "scope": "查勘定损理算"},
    "handlers": [{"name": "张三"}, {"name": "李四"}],
    "assigned_at": "2025-01-02T09:30:00",
    "policy": {
        "number": "P-1", "insurer": "某财产保险股份有限公司", "policyholder": "某建设公司", "insured": "某建设公司",
        "period_start": "2024-01-01T00:00:00", "period_end": "2026-12-31T23:59:59", "insured_site": "某工地",
        "items": [{"id": "A1", "name": "建筑工程", "sum_insured": "1000000", "insurable_value": "1000000"}],
    },
    "project": {"name": "某工程", "location": "某地", "owner": "某业主", "contractor": "某施工单位",
                "overview": "概况", "progress_before_loss": "主体施工中"},
    "incident": {"occurred_at": "2025-01-01T03:00:00", "place": "某工地", "course": "经过", "measures_taken": "措施",
                 "reported_cause": "暴雨"},
    "survey": {"location_band": "city", "arrived_at": "2025-01-02T11:00:00"},
    "report": {"number": "R-1", "issued_on": "2025-02-01"},
}


def minimal_case() -> dict[str, Any]:
    """A fresh copy of the smallest valid case file."""
    return copy.deepcopy(_MINIMAL)


def item(id_: str, sum_insured: str, insurable_value: str, name: str | None = None) -> dict[str, Any]:
    return {"id": id_, "name": name or f"保险项目{id_}", "sum_insured": sum_insured, "insurable_value": insurable_value}


def loss(id_: str, insured_item: str, quantity: str, unit_price: str, **extra: Any) -> dict[str, Any]:
    return {"id": id_, "name": f"损失{id_}", "insured_item": insured_item, "quantity": quantity, "unit": "项",
            "unit_price": unit_price, **extra}


def deductible(id_: str, mode: str, amount: str | None = None, rate: str | None = None,
               items: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": id_, "description": f"免赔{id_}", "mode": mode}
    if amount is not None:
        out["amount"] = amount
    if rate is not None:
        out["rate"] = rate
    if items:
        out["items"] = items
    return out


def rescue(id_: str, reasonable: str, rescued_items: list[str], insured_value: str, total_value: str,
           claimed: str | None = None) -> dict[str, Any]:
    return {"id": id_, "description": f"施救{id_}", "claimed": claimed or reasonable, "reasonable": reasonable,
            "rescued_items": rescued_items, "insured_value_rescued": insured_value, "total_value_rescued": total_value}


def other(sum_insured: str, items: list[str] | None = None, relation: str = "duplicate") -> dict[str, Any]:
    return {"relation": relation, "insurer": "另一财产保险股份有限公司", "policy_no": "OTHER-1",
            "sum_insured": sum_insured, "items": items or []}


def build_data(*, items: list[dict[str, Any]] | None = None, losses: list[dict[str, Any]] | None = None,
               deductibles: list[dict[str, Any]] | None = None, rescues: list[dict[str, Any]] | None = None,
               others: list[dict[str, Any]] | None = None, **policy: Any) -> dict[str, Any]:
    data = minimal_case()
    if items is not None:
        data["policy"]["items"] = items
    data["policy"]["deductibles"] = deductibles or []
    data["policy"]["other_insurance"] = others or []
    data["policy"].update(policy)
    data["losses"] = losses or []
    data["rescue_costs"] = rescues or []
    return data


def build(**kw: Any) -> CarSurveyCase:
    """A validated case: see build_data for the keywords; extra keywords go to `policy`."""
    return validate_data(build_data(**kw), "<test>")
