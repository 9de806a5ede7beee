"""8.3's deductible rate taken of the assessed loss (核定损失金额, clause 7) or of the adjusted loss (after the
insured ratio and share, 8.3's second formula): `rate_base` per deductible, `adjusted_loss` by default.

Every expected figure is worked out by hand in the comments; nothing is copied from the engine's output.
The modes are those of the code and the model: amount, rate, higher ("以高者为准"). There is no "lower"
mode — the code of practice has none — so a case file asking for one is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal as D
from decimal import localcontext
from typing import Any

import pytest
from car_case_factory import build, build_data, deductible, item, loss, other

from generator.adjust import PRECISION, Step, adjust, adjustment_to_dict
from generator.loading import CaseFileError, validate_data
from generator.model import RateBase
from generator.report_content import Table, build_report
from gongu.web.form_fields import field_spec

WORDING = "每次事故绝对免赔额人民币18,000元或损失金额的10%，两者以高者为准"


@pytest.fixture(autouse=True)
def engine_precision() -> Iterator[None]:
    with localcontext() as ctx:
        ctx.prec = PRECISION
        yield


def _ded(mode: str, base: str | None, **kw: Any) -> dict[str, Any]:
    out = deductible("D1", mode, **kw)
    out["description"] = WORDING
    if base is not None:
        out["rate_base"] = base
    return out


def _under_insured(ded: dict[str, Any]) -> Any:
    # A1: sum insured 600,000 of an insurable value 800,000 → 投保比例 0.75 (8.2.2).
    # L1: 1 × 200,000, salvage 0 → 核定损失金额 200,000; 理算金额 200,000 × 0.75 = 150,000.
    return build(items=[item("A1", "600000", "800000")], losses=[loss("L1", "A1", "1", "200000")],
                 deductibles=[ded])


def _deductible_step(steps: list[Step]) -> Step:
    found = [s for s in steps if s.clause == "8.3" and "免赔（" in s.label]
    assert len(found) == 1
    return found[0]


# ─────────────────────────────── rate only, under-insurance ───────────────────────────────


def test_rate_on_the_adjusted_loss_by_default() -> None:
    adj = adjust(_under_insured(_ded("rate", None, rate="0.10")))
    d = adj.deductibles[0]
    # 150,000 × 10 % = 15,000; 150,000 − 15,000 = 135,000.
    assert (d.base, d.rate_base_amount, d.deducted, d.payable) == (D("150000"), D("150000"), D("15000"), D("135000"))
    step = _deductible_step(adj.steps)
    # The step of a file without rate_base reads as it always has.
    assert step.formula == "理算金额 × 免赔率"
    assert step.inputs == (("理算金额", "150,000.00"), ("免赔率", "10.00%"))
    assert WORDING in step.label


def test_adjusted_loss_written_out_is_the_default() -> None:
    implicit = adjust(_under_insured(_ded("rate", None, rate="0.10")))
    explicit = adjust(_under_insured(_ded("rate", "adjusted_loss", rate="0.10")))
    assert explicit.deductibles[0].payable == implicit.deductibles[0].payable == D("135000")
    assert explicit.steps == implicit.steps


def test_rate_on_the_assessed_loss() -> None:
    adj = adjust(_under_insured(_ded("rate", "assessed_loss", rate="0.10")))
    d = adj.deductibles[0]
    # The rate is taken of 200,000 (before the 0.75 ratio): 20,000; taken from 150,000 → 130,000.
    assert (d.base, d.rate_base_amount, d.deducted, d.payable) == (D("150000"), D("200000"), D("20000"), D("130000"))
    step = _deductible_step(adj.steps)
    assert step.formula == "核定损失金额 × 免赔率"
    assert step.inputs == (("理算金额", "150,000.00"), ("核定损失金额", "200,000.00"), ("免赔率", "10.00%"))
    assert step.label.endswith(f"免赔（{WORDING}）")
    assert adj.total_payable == D("130000")


# ─────────────────────────────── "以高者为准", under-insurance ───────────────────────────────


def test_higher_on_the_adjusted_loss_the_amount_wins() -> None:
    d = adjust(_under_insured(_ded("higher", "adjusted_loss", amount="18000", rate="0.10"))).deductibles[0]
    # max(18,000, 150,000 × 10 % = 15,000) = 18,000; 150,000 − 18,000 = 132,000.
    assert (d.deducted, d.payable) == (D("18000"), D("132000"))


def test_higher_on_the_assessed_loss_the_rate_wins() -> None:
    adj = adjust(_under_insured(_ded("higher", "assessed_loss", amount="18000", rate="0.10")))
    d = adj.deductibles[0]
    # max(18,000, 200,000 × 10 % = 20,000) = 20,000; 150,000 − 20,000 = 130,000.
    assert (d.deducted, d.payable) == (D("20000"), D("130000"))
    step = _deductible_step(adj.steps)
    assert step.formula == "max(免赔额, 核定损失金额 × 免赔率)"
    assert dict(step.inputs) == {"理算金额": "150,000.00", "核定损失金额": "200,000.00", "免赔额": "18,000.00",
                                 "免赔率": "10.00%", "按免赔率计": "20,000.00"}
    assert step.result == D("20000")


def test_higher_the_amount_wins_on_both_bases() -> None:
    for base in ("adjusted_loss", "assessed_loss"):
        d = adjust(_under_insured(_ded("higher", base, amount="25000", rate="0.10"))).deductibles[0]
        # max(25,000, 15,000 or 20,000) = 25,000 either way; 150,000 − 25,000 = 125,000.
        assert (d.deducted, d.payable) == (D("25000"), D("125000")), base


def test_without_under_insurance_both_bases_agree() -> None:
    # 8.2.2: 1,000,000 / 900,000 > 100 % → 100 %, no other policy: 理算金额 = 核定损失金额 = 200,000.
    results = []
    for base in ("adjusted_loss", "assessed_loss"):
        case = build(items=[item("A1", "1000000", "900000")], losses=[loss("L1", "A1", "1", "200000")],
                     deductibles=[_ded("higher", base, amount="18000", rate="0.10")])
        results.append(adjust(case).deductibles[0].deducted)
    assert results == [D("20000"), D("20000")]  # max(18,000, 200,000 × 10 %)


# ─────────────────────────────── contribution (8.1) and the ceiling ───────────────────────────────


def test_duplicate_insurance_share_is_left_out_of_the_assessed_base() -> None:
    # A1 600,000 / 600,000 and another policy of 400,000 on it: ratio min(1,000,000 / 600,000, 1) = 1,
    # this policy's share 600,000 / 1,000,000 = 0.6 (8.1). Loss 100,000 → 理算金额 60,000.
    def case(base: str) -> Any:
        return build(items=[item("A1", "600000", "600000")], losses=[loss("L1", "A1", "1", "100000")],
                     others=[other("400000", ["A1"])], deductibles=[_ded("rate", base, rate="0.10")])

    adjusted, assessed = (adjust(case(b)).deductibles[0] for b in ("adjusted_loss", "assessed_loss"))
    assert (adjusted.deducted, adjusted.payable) == (D("6000"), D("54000"))  # 60,000 × 10 %; 60,000 − 6,000
    assert (assessed.deducted, assessed.payable) == (D("10000"), D("50000"))  # 100,000 × 10 %; 60,000 − 10,000


def test_the_assessed_base_is_not_capped_at_the_sum_insured() -> None:
    # Loss 150,000 on an item insured for 100,000 (= insurable value): 理算金额 capped at 100,000 (8.3).
    case = build(items=[item("A1", "100000", "100000")], losses=[loss("L1", "A1", "1", "150000")],
                 deductibles=[_ded("rate", "assessed_loss", rate="0.10")])
    d = adjust(case).deductibles[0]
    assert (d.base, d.rate_base_amount, d.deducted, d.payable) == (D("100000"), D("150000"), D("15000"), D("85000"))


def test_the_assessed_base_is_the_groups_loss_net_of_salvage() -> None:
    # General D1 (higher 5,000 / 5 %, on the assessed loss) covers A1 and A2; D2 (amount 1,000) covers A3.
    # A1 600,000 / 800,000 → ratio 0.75; L1 1 × 200,000 − salvage 8,000 = 192,000 → 理算金额 144,000.
    # A2 100,000 / 100,000; L2 2 × 15,000 = 30,000 → 30,000.       A3 50,000 / 50,000; L3 40,000.
    # D1: 核定损失金额 192,000 + 30,000 = 222,000; 理算金额 144,000 + 30,000 = 174,000;
    #     max(5,000, 222,000 × 5 % = 11,100) = 11,100 → 174,000 − 11,100 = 162,900.
    # D2: 40,000 − 1,000 = 39,000. Total 162,900 + 39,000 = 201,900.
    case = build(items=[item("A1", "600000", "800000"), item("A2", "100000", "100000"), item("A3", "50000", "50000")],
                 losses=[loss("L1", "A1", "1", "200000", salvage="8000"), loss("L2", "A2", "2", "15000"),
                         loss("L3", "A3", "1", "40000")],
                 deductibles=[_ded("higher", "assessed_loss", amount="5000", rate="0.05"),
                              deductible("D2", "amount", amount="1000", items=["A3"])])
    adj = adjust(case)
    by_id = {d.deductible.id: d for d in adj.deductibles if d.deductible}
    assert by_id["D1"].item_ids == ("A1", "A2")
    assert (by_id["D1"].base, by_id["D1"].rate_base_amount) == (D("174000"), D("222000"))
    assert (by_id["D1"].deducted, by_id["D1"].payable) == (D("11100"), D("162900"))
    assert by_id["D2"].rate_base_amount is None and by_id["D2"].payable == D("39000")
    assert adj.total_payable == D("201900")
    out = adjustment_to_dict(case, adj)["deductibles"]
    assert [(d["id"], d["rate_base"], d["rate_base_amount"]) for d in out] == [
        ("D1", "assessed_loss", "222000.00"), ("D2", None, None)]


# ─────────────────────────────── what the report shows ───────────────────────────────


def test_the_adjustment_section_names_the_base_and_quotes_the_wording() -> None:
    case = _under_insured(_ded("higher", "assessed_loss", amount="18000", rate="0.10"))
    doc = build_report(case, adjust(case))
    section = next(s for s in doc.sections if s.title == "保险赔款理算")
    table = next(b for b in section.blocks if isinstance(b, Table) and b.caption == "理算过程")
    row = next(r for r in table.rows if "免赔（" in r[1])
    assert row[0] == "8.3"
    assert WORDING in row[1]
    assert row[2] == "max(免赔额, 核定损失金额 × 免赔率)"
    assert "核定损失金额 200,000.00" in row[3] and "按免赔率计 20,000.00" in row[3]
    assert row[4] == "20,000.00"


# ─────────────────────────────── bad input ───────────────────────────────


def _problems(data: dict[str, Any]) -> list[Any]:
    with pytest.raises(CaseFileError) as err:
        validate_data(data, "<test>")
    return err.value.problems


@pytest.mark.parametrize("base", ["assessed_loss", "adjusted_loss"])
def test_a_base_on_a_deductible_without_a_rate_is_refused(base: str) -> None:
    data = build_data(deductibles=[_ded("amount", base, amount="18000")])
    [problem] = _problems(data)
    assert problem.path == "$.policy.deductibles[0].rate_base"
    assert problem.title.endswith("免赔率计算基数")
    assert "免赔额" in problem.message and "不应填写免赔率计算基数" in problem.message
    assert problem.value == base


def test_an_unknown_base_is_refused_with_its_path() -> None:
    [problem] = _problems(build_data(deductibles=[_ded("rate", "claimed_loss", rate="0.10")]))
    assert problem.path == "$.policy.deductibles[0].rate_base"
    assert problem.value == "claimed_loss"


def test_there_is_no_lower_mode() -> None:
    [problem] = _problems(build_data(deductibles=[_ded("lower", None, amount="18000", rate="0.10")]))
    assert problem.path == "$.policy.deductibles[0].mode"


def test_the_form_offers_both_bases_by_their_chinese_titles() -> None:
    from generator.model import Deductible

    spec = field_spec(Deductible, "rate_base")
    assert spec.kind == "choice" and not spec.required
    assert dict(spec.choices) == {RateBase.assessed_loss.value: "核定损失金额",
                                  RateBase.adjusted_loss.value: "理算金额（按投保比例、分摊比例理算后）"}
