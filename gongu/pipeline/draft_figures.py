"""The loss page's running figures while a case is being written: each loss line's 7.x assessment and the
8.x adjustment — the same generator/adjust.py the report uses — computed from the policy, losses and rescue
costs alone, so they show before the rest of the case file is complete. Lines that do not validate yet are
named with their problems instead of a figure."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from pydantic import TypeAdapter, ValidationError

from generator.amounts import format_amount, rmb_uppercase
from generator.model import LossItem, Policy, RescueCost

_LOSSES = TypeAdapter(list[LossItem])
_RESCUES = TypeAdapter(list[RescueCost])


def _invalid(prefix: tuple[Any, ...], exc: ValidationError) -> list[str]:
    """The errors with the words of `gongu validate`, at their path in the case file."""
    from generator.loading import problem_from_error
    from generator.model import CarSurveyCase

    out = []
    for err in exc.errors()[:10]:
        shifted = {**err, "loc": prefix + tuple(err["loc"])}
        p = problem_from_error(CarSurveyCase, shifted)
        out.append(f"{p.path} {p.title}：{p.message}")
    return out


def running_adjustment(data: dict[str, Any]) -> dict[str, Any]:
    """{"lines": [(id, name, 7.x figures …)], "rows": adjustment rows, "total": text, "missing": [why not]}."""
    from generator.adjust import adjust, assess_loss
    from gongu.pipeline.adjust_view import adjustment_rows

    out: dict[str, Any] = {"lines": [], "rows": [], "total": None, "missing": []}
    policy = None
    try:
        policy = Policy.model_validate(data.get("policy") or {})
    except ValidationError as exc:
        out["missing"].append("保险合同尚未完整，理算（8.x）待保险合同填写后显示")
        out["missing"] += _invalid(("policy",), exc)[:3]
    betterment_covered = bool(policy.betterment_covered) if policy is not None else False
    losses: list[LossItem] = []
    for i, raw in enumerate(data.get("losses") or []):
        try:
            loss = LossItem.model_validate(raw)
        except ValidationError as exc:
            out["lines"].append({"index": i, "id": (raw or {}).get("id", f"第 {i + 1} 行") if isinstance(raw, dict) else "",
                                 "problems": _invalid(("losses", i), exc)})
            continue
        losses.append(loss)
        assessment, _steps = assess_loss(loss, betterment_covered)
        out["lines"].append({"index": i, "id": loss.id, "name": loss.name, "problems": [],
                             "repair_cost": format_amount(assessment.repair_cost),
                             "betterment": format_amount(assessment.betterment_excluded),
                             "assessed": format_amount(assessment.assessed), "salvage": format_amount(assessment.salvage),
                             "net": format_amount(assessment.net)})
    try:
        rescues = _RESCUES.validate_python(data.get("rescue_costs") or [])
    except ValidationError as exc:
        out["missing"] += ["施救费用尚未完整"] + _invalid(("rescue_costs",), exc)[:3]
        rescues = None
    if policy is None or rescues is None or any(line["problems"] for line in out["lines"]):
        return out
    # What adjust() needs to hold across the three parts (the rest of generator/integrity.py reads the whole
    # case, which a draft does not have yet); the full check runs on save and names the same problems.
    item_ids = {item.id for item in policy.items}
    needs = [f"$.losses[{i}].insured_item：保单中没有该保险项目 {loss.insured_item}"
             for i, loss in enumerate(losses) if loss.insured_item not in item_ids]
    needs += [f"$.losses[{i}].pre_loss_value：实际全损须给出损失前实际价值 (7.1.2)"
              for i, loss in enumerate(losses) if loss.destroyed and loss.pre_loss_value is None]
    needs += [f"$.rescue_costs[{i}].rescued_items：保单中没有该保险项目 {ref}"
              for i, r in enumerate(rescues) for ref in r.rescued_items if ref not in item_ids]
    needs += [f"$.policy.items[{i}].insurable_value：应保金额必须大于零 (8.2.2)"
              for i, item in enumerate(policy.items) if item.insurable_value <= 0]
    if needs:
        out["missing"] += needs[:5]
        return out
    view = SimpleNamespace(policy=policy, losses=losses, rescue_costs=rescues, case_id=data.get("case_id"))
    result = adjust(view)  # type: ignore[arg-type]
    out["rows"] = adjustment_rows(result)
    total: Decimal = result.total_payable
    out["total"] = f"{format_amount(total)} 元（{rmb_uppercase(total)}）"
    return out
