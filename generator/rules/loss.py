"""Clauses 7–8: loss assessment and the adjustment's inputs."""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.rule import Miss, RuleContext, rule


@rule("loss.price_basis", "7.3", "blocking", "每项损失列明单价依据")
def loss_price_basis(ctx: RuleContext) -> Iterator[Miss]:
    for i, loss in enumerate(ctx.case.losses):
        if loss.price_basis is None:
            yield Miss(f"$.losses[{i}].price_basis", f"损失项目 {loss.id} / 单价依据：未说明采用施工合同单价、定额或市场价格")
        if not loss.price_reference:
            yield Miss(f"$.losses[{i}].price_reference", f"损失项目 {loss.id} / 单价出处：未列明单价出处")


@rule("loss.salvage_method", "7.5", "blocking", "有残值的项目列明残值处理方式")
def loss_salvage_method(ctx: RuleContext) -> Iterator[Miss]:
    for i, loss in enumerate(ctx.case.losses):
        if loss.salvage > 0 and loss.salvage_method is None:
            yield Miss(f"$.losses[{i}].salvage_method", f"损失项目 {loss.id} / 残值处理方式：残值 {loss.salvage} 元未说明"
                       "拍卖、折价出售或折归被保险人", str(loss.salvage))


@rule("adjust.other_insurance", "8.1", "blocking", "了解是否存在重复保险、保险竞合")
def adjust_other_insurance(ctx: RuleContext) -> Iterator[Miss]:
    # "Answered" = the file states the other insurance found, even as an explicit empty list ("none found");
    # a key left out entirely means nobody asked.
    if "other_insurance" not in ctx.case.policy.model_fields_set:
        yield Miss("$.policy.other_insurance", "保险合同 / 其他保险：未说明是否存在重复保险、保险竞合"
                   "（未发现时请写明空列表 []）")


@rule("adjust.value_components", "8.2.1", "blocking", "列明应保金额构成")
def adjust_value_components(ctx: RuleContext) -> Iterator[Miss]:
    for i, item in enumerate(ctx.case.policy.items):
        if not item.value_components:
            yield Miss(f"$.policy.items[{i}].value_components", f"保险项目 {item.id} / 应保金额构成：未列明"
                       "（原材料、设备、建造、安装、运保费、税费、业主提供材料设备等）")


@rule("adjust.value_components_sum", "8.2.1", "warning", "应保金额构成合计等于应保金额")
def adjust_value_components_sum(ctx: RuleContext) -> Iterator[Miss]:
    for i, item in enumerate(ctx.case.policy.items):
        if not item.value_components:
            continue  # adjust.value_components reports it
        total = sum((c.amount for c in item.value_components), start=0)
        if total != item.insurable_value:
            yield Miss(f"$.policy.items[{i}].value_components", f"保险项目 {item.id} / 应保金额构成：合计 {total} 元"
                       f"与应保金额 {item.insurable_value} 元不符", str(total))
