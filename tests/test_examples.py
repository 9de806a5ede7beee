"""The bundled examples: valid, complete with photos, and their adjustments checked by hand.

Each example's total is derived below from the figures in its case.json, step by step, with the
clause for each step — the engine's numbers are never copied here.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal as D
from decimal import localcontext
from functools import cache
from pathlib import Path

import pytest
from PIL import Image

from generator.adjust import PRECISION, Adjustment, adjust
from generator.amounts import rmb_uppercase, to_fen
from generator.loading import load_case
from generator.model import (
    CarSurveyCase,
    CommissionType,
    DeductibleMode,
    OtherInsuranceRelation,
    PartyRole,
    RateBase,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NAMES = ("slope-collapse", "tunnel-inrush", "pile-collapse")


@cache
def case_of(name: str) -> CarSurveyCase:
    return load_case(EXAMPLES / name / "case.json").case


@cache
def adjusted(name: str) -> Adjustment:
    return adjust(case_of(name))


@pytest.fixture(autouse=True)
def engine_precision() -> Iterator[None]:
    with localcontext() as ctx:
        ctx.prec = PRECISION
        yield


def test_every_bundled_example_is_listed() -> None:
    assert {p.parent.name for p in EXAMPLES.glob("*/case.json")} >= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_photos_exist_and_are_site_photo_sized(name: str) -> None:
    case = case_of(name)
    assert case.survey.photos
    records = {r.id for r in case.survey.record_items}
    for photo in case.survey.photos:
        path = EXAMPLES / name / photo.file
        assert path.is_file(), path
        assert path.stat().st_size <= 80_000
        with Image.open(path) as img:
            assert img.format == "JPEG"
            assert img.size == (1024, 768)
        assert photo.record_item in records  # 5.3.1 d): every photo shows a recorded item


def test_slope_collapse_by_hand() -> None:
    adj = adjusted("slope-collapse")
    # 7.1.1 partial losses under A1 (建筑工程): repair − salvage, betterment removed (7.1).
    l2 = D("860") * D("412.00") - D("21500")  # 护坡: 354,320 − 21,500 salvage
    l3 = D("1240") * D("86.00")  # 锚杆框架梁
    l4 = D("320") * D("265.00") - D("18600")  # 截水沟: enlarged section is betterment
    l5 = D("36000") - D("2400")  # 7.1.2 destroyed drainage: pre-loss value − salvage
    a1 = l2 + l3 + l4 + l5
    assert a1 == D("539260")
    a2 = D("3250") * D("28.50")  # A2 场地清理费, ratio 500,000 / 500,000
    ratio = D("48000000") / D("52000000")  # 8.2.2 under-insurance
    base = a1 * ratio + a2
    # 8.3 higher, the rate taken of the assessed loss (rate_base: assessed_loss, "损失金额的10%"):
    # max(100,000, (539,260 + 92,625) × 10 % = 63,188.50) — on the adjusted loss it would be 59,040.35.
    by_rate = (a1 + a2) * D("0.10")
    assert by_rate == D("63188.5") and base * D("0.10") < by_rate
    deducted = max(D("100000"), by_rate)
    assert deducted == D("100000")
    assert adj.deductibles[0].rate_base_amount == a1 + a2
    rescue = min(D("152000"), D("3800000")) * ratio  # 7.1.3, nothing uninsured was rescued
    total = base - deducted + rescue
    assert adj.net_loss_total == a1 + a2
    assert adj.total_payable == total
    assert to_fen(total) == D("630711.15")


def test_tunnel_inrush_by_hand() -> None:
    adj = adjusted("tunnel-inrush")
    # A1 建筑工程: 7.1 betterment (I18→I22 arches) removed, salvage of old arches deducted (7.1.1).
    l1 = D("32") * D("48600.00") - D("186000") - D("42000")
    l2 = D("1860") * D("385.00")
    l3 = D("1") * D("68400.00")
    a1 = l1 + l2 + l3
    assert a1 == D("2111700")
    # 8.1 duplicate insurance with the contractor's CPIC policy (90 M) on A1:
    # ratio on both policies min((360 M + 90 M) / 400 M, 1) = 1, this policy's share 360 / 450.
    assert (D("360000000") + D("90000000")) / D("400000000") > 1
    share = D("360000000") / (D("360000000") + D("90000000"))
    a1_adjusted = a1 * 1 * share  # 1,689,360
    # A2 施工机具设备: manipulator repair 1,150,000 ≥ value 980,000 → constructive total (7.1.1/7.1.2),
    # value − auction salvage; excavator repair 86,000 < value 620,000 → partial.
    a2 = (D("980000") - D("120000")) + D("86000")
    # A3 场地清理费: 4,200 m³ × 36.00.
    a3 = D("4200") * D("36.00")
    # 8.3 per-item deductibles: D1 (amount 200,000) over A1 + A3; D2 (higher 50,000 / 20 %) on A2 alone.
    d1_payable = a1_adjusted + a3 - D("200000")
    d2_deducted = max(D("50000"), a2 * D("0.20"))
    assert d2_deducted == D("189200")  # the rate branch wins
    d2_payable = a2 - d2_deducted
    # 7.1.3 rescue: 538,600 apportioned by 26 M insured of 31.2 M rescued, then A1's ratio and share.
    rescue = D("538600") * D("26000000") / D("31200000") * share
    total = d1_payable + d2_payable + rescue
    by_ded = {d.deductible.id: d for d in adj.deductibles if d.deductible}
    assert by_ded["D1"].payable == d1_payable
    assert by_ded["D2"].payable == d2_payable
    assert abs(adj.rescues[0].payable - rescue) < D("1e-40")
    assert abs(adj.total_payable - total) < D("1e-40")
    assert to_fen(adj.total_payable) == to_fen(total) == D("2756426.67")
    assert rmb_uppercase(total) == "人民币贰佰柒拾伍万陆仟肆佰贰拾陆元陆角柒分"


def test_pile_collapse_by_hand() -> None:
    adj = adjusted("pile-collapse")
    # A1 建筑工程, all partial (7.1.1): backfill (quota), re-drilling (contract), cage (market, auctioned
    # scrap as salvage), slurry (market), jet-grouting of neighbouring piles (contract).
    a1 = (D("186") * D("295.00") + D("42") * D("3860.00") + (D("8.62") * D("6150.00") - D("21119"))
          + D("420") * D("58.00") + D("156") * D("420.00"))
    assert a1 == D("338764")
    # 8.2.2 over-insurance: 86 M / 78.5 M > 100 % → 100 %.
    assert D("86000000") / D("78500000") > 1
    a2 = D("680") * D("45.00")  # 场地清理费
    # 8.3 rate deductible: Σ × ratio × (1 − 10 %), one general deductible over both items.
    loss_payable = (a1 + a2) * (1 - D("0.10"))
    rescue = D("42500")  # 7.1.3: insured value rescued = all value rescued, ratio 100 %
    total = loss_payable + rescue
    assert adj.loss_payable == loss_payable
    assert adj.total_payable == total == D("374927.6")


def test_between_them_the_examples_exercise_every_feature() -> None:
    slope, tunnel, pile = (case_of(n) for n in NAMES)
    slope_adj, tunnel_adj, pile_adj = (adjusted(n) for n in NAMES)
    # under-insurance (8.2.2)
    assert slope_adj.items[0].ratio < 1
    # over-insurance, capped (8.2.2)
    pile_a1 = next(i for i in pile_adj.items if i.item.id == "A1")
    assert pile_a1.item.sum_insured > pile_a1.item.insurable_value and pile_a1.ratio == 1
    # duplicate insurance (8.1)
    assert tunnel.policy.other_insurance[0].relation is OtherInsuranceRelation.duplicate
    assert next(i for i in tunnel_adj.items if i.item.id == "A1").share < 1
    # constructive total loss that is not a physical destruction (7.1.2)
    ct = [a for a in tunnel_adj.losses if a.basis == "constructive_total"]
    assert ct and not ct[0].loss.destroyed
    # rescue costs that include uninsured property (7.1.3)
    r = tunnel_adj.rescues[0]
    assert r.rescue.insured_value_rescued < r.rescue.total_value_rescued and r.apportioned < r.rescue.reasonable
    # salvage with a method (7.5), betterment (7.1), destroyed item (7.1.2)
    assert all(any(a.salvage > 0 and a.loss.salvage_method for a in adj.losses)
               for adj in (slope_adj, tunnel_adj, pile_adj))
    assert any(a.betterment_excluded > 0 for a in slope_adj.losses + tunnel_adj.losses)
    assert any(a.basis == "total" for a in slope_adj.losses)
    # deductible amount, rate and "whichever higher" (8.3); per-item deductibles
    modes = {d.mode for c in (slope, tunnel, pile) for d in c.policy.deductibles}
    assert modes == {DeductibleMode.amount, DeductibleMode.rate, DeductibleMode.higher}
    # the rate taken of the assessed loss (slope) and, by default, of the adjusted loss (pile, tunnel)
    assert slope.policy.deductibles[0].rate_base is RateBase.assessed_loss
    assert pile.policy.deductibles[0].rate_base is RateBase.adjusted_loss
    assert any(d.items for d in tunnel.policy.deductibles)
    # several insured items (8.2.3), price bases contract / quota / market (7.3)
    assert len(tunnel.policy.items) >= 3
    assert {str(loss.price_basis) for loss in pile.losses} == {"contract", "quota", "market"}


def test_examples_differ_in_place_insurer_and_commission() -> None:
    cases = [case_of(n) for n in NAMES]
    assert len({c.project.province for c in cases}) == 3
    assert len({c.project.city for c in cases}) == 3
    assert len({c.policy.insurer for c in cases}) == 3
    assert len({c.report.number for c in cases}) == 3
    joint = [c for c in cases if c.commission.type is CommissionType.joint]
    assert joint and {letter.issuer_role for letter in joint[0].commission.letters} == {PartyRole.insurer,
                                                                                        PartyRole.insured}
    court = [c for c in cases if c.commission.type is CommissionType.court]
    assert court and court[0].statutory and all(h.licensed_appraiser for h in court[0].handlers)
    assert any(not c.statutory for c in cases)


FORENSIC = ("forensic-joint-grade10", "forensic-single-no-disability", "forensic-extension-correction",
            "forensic-reappraisal")


@pytest.mark.parametrize("name", FORENSIC)
def test_forensic_examples_have_no_blocking_finding(name: str) -> None:
    """Every forensic example may be issued as it stands: its dates run examination → 复核 → signatures →
    opinion date → 补正 (通则 Arts 35–37, 41) and (c)'s extension was approved on 12 Oct, before the limit
    it extends ran out on 19 Oct (通则 Art 28: 30 working days from 19 Aug, 1–11 Sep suspended)."""
    from generator.rules import run_rules

    loaded = load_case(EXAMPLES / name / "case.json")
    blocking = [f for f in run_rules(loaded.case, case_dir=loaded.source.parent) if f.blocking]
    assert blocking == []
