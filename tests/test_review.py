"""Three-level review (9.3): who may review, in what order, what a return does, and how it is recorded."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from case_edits import FORENSIC_JOINT, SLOPE, case_from, forensic_findings, forensic_joint, slope
from pydantic import ValidationError
from typer.testing import CliRunner

from generator.loading import load_case, parse_json, validate_data
from generator.model import Review
from generator.review import check_new_review, review_state
from gongu.cli.app import app
from tests.peoplekit import people_home

runner = CliRunner()


@pytest.fixture(autouse=True)
def _registered_staff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`gongu review` accepts only reviewers registered in gongu.toml [people]."""
    people_home(tmp_path / "gongu-home", monkeypatch, accounts=True)


def review(level: str, reviewer: str, at: str, decision: str = "approve", comment: str | None = None) -> dict:
    out = {"level": level, "reviewer": reviewer, "at": at, "decision": decision}
    if comment:
        out["comment"] = comment
    return out


def unreviewed() -> dict[str, Any]:
    data = slope()
    data["reviews"] = []
    return data


def reasons_for(data: dict, new: dict) -> list[str]:
    return check_new_review(case_from(data), Review.model_validate(new))


def test_9_3_example_has_three_valid_approvals() -> None:
    state = review_state(case_from(slope()))
    assert state.complete and state.problems == [] and state.last_return is None


def test_9_3_handler_may_not_review() -> None:
    (reason,) = reasons_for(unreviewed(), review("proofread", "王志强", "2025-09-02T15:00:00"))
    assert "承办人员" in reason


def test_9_3_same_reviewer_may_not_take_two_levels() -> None:
    data = unreviewed()
    data["reviews"] = [review("proofread", "赵丽", "2025-09-02T15:00:00")]
    (reason,) = reasons_for(data, review("recheck", "赵丽", "2025-09-03T11:00:00"))
    assert "赵丽" in reason and "校对" in reason
    # ... within the round a return opens, too: 赵丽 proofreads the new round, so she may not approve it.
    data["reviews"] += [review("recheck", "孙立军", "2025-09-03T11:00:00", "return", "数量有误"),
                        review("proofread", "赵丽", "2025-09-04T09:00:00"), review("recheck", "孙立军", "2025-09-04T10:00:00")]
    assert any("同一人" in r for r in reasons_for(data, review("approve", "赵丽", "2025-09-04T11:00:00")))


def test_9_3_one_person_rule_looks_at_the_current_round_only() -> None:
    """A mistaken entry followed by a return is history: the firm's approver 刘建国, mistakenly entered at the
    复核 level and then returning it, takes his own 审核 level in the new round (before, the whole history
    counted and barred him from this case for good)."""
    data = unreviewed()
    data["reviews"] = [review("proofread", "赵丽", "2025-09-02T15:00:00"),
                       review("recheck", "刘建国", "2025-09-03T09:00:00"),  # the mistake: he is the 审核人
                       review("recheck", "刘建国", "2025-09-03T09:10:00", "return", "误录为复核")]
    data["reviews"] += [review("proofread", "赵丽", "2025-09-03T10:00:00"),
                        review("recheck", "孙立军", "2025-09-03T11:00:00")]
    assert reasons_for(data, review("approve", "刘建国", "2025-09-04T16:30:00")) == []
    # The same history written into the file: every entry valid, the new round complete with the regular people.
    data["reviews"].append(review("approve", "刘建国", "2025-09-04T16:30:00"))
    state = review_state(case_from(data))
    assert state.problems == [] and state.complete
    assert {lv: r.reviewer for lv, r in state.approved.items()} == {"proofread": "赵丽", "recheck": "孙立军",
                                                                    "approve": "刘建国"}


def test_9_3_names_compare_as_persons_not_as_typed_strings() -> None:
    """Full-width letters or another case do not make a new person; a zero-width space is refused outright
    (no name carries one: generator/types.Name)."""
    with pytest.raises(ValidationError, match="U\\+200B"):
        Review.model_validate(review("proofread", "王\u200b志强", "2025-09-02T15:00:00"))
    (reason,) = reasons_for(unreviewed(), review("proofread", "王志强", "2025-09-02T15:00:00"))
    assert "承办人员" in reason
    data = unreviewed()
    data["reviews"] = [review("proofread", "Zhao Li", "2025-09-02T15:00:00")]
    for alias in ("zhao li", "ZHAO LI", "Ｚｈａｏ Ｌｉ"):
        reasons = reasons_for(data, review("recheck", alias, "2025-09-03T11:00:00"))
        assert any("同一人不能担任两级审核" in r for r in reasons), alias


def test_gongu_review_accepts_only_registered_persons(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    people_home(tmp_path / "firm", monkeypatch, names=["Zhao Li", "孙立军"], accounts=True)
    case_file = _copy_example(tmp_path, reviews=[])
    before = case_file.read_bytes()
    result = runner.invoke(app, ["review", str(case_file), "--level", "proofread", "--reviewer", "赵丽",
                                 "--decision", "approve", "--at", "2025-09-02T15:00:00"])
    assert result.exit_code == 2 and "登记" in result.output and "Traceback" not in result.output
    assert case_file.read_bytes() == before  # nothing written
    result = runner.invoke(app, ["review", str(case_file), "--level", "proofread", "--reviewer", "zhao\u200bli",
                                 "--decision", "approve", "--at", "2025-09-02T15:00:00"])
    assert result.exit_code == 2  # "zhaoli" is not "zhao li": only case, width and format characters are ignored
    result = runner.invoke(app, ["review", str(case_file), "--level", "proofread", "--reviewer", "ZHAO LI",
                                 "--decision", "approve", "--at", "2025-09-02T15:00:00"])
    assert result.exit_code == 0, result.output
    assert json.loads(case_file.read_text(encoding="utf-8"))["reviews"][0]["reviewer"] == "Zhao Li"
    result = runner.invoke(app, ["review", str(case_file), "--level", "recheck", "--reviewer", "zhao li",
                                 "--decision", "approve", "--at", "2025-09-03T11:00:00"])
    assert result.exit_code == 2 and "同一人" in result.output


def test_9_3_levels_in_order() -> None:
    (reason,) = reasons_for(unreviewed(), review("recheck", "孙立军", "2025-09-03T11:00:00"))
    assert "校对" in reason and "尚未通过" in reason
    data = unreviewed()
    data["reviews"] = [review("proofread", "赵丽", "2025-09-02T15:00:00")]
    (reason,) = reasons_for(data, review("approve", "刘建国", "2025-09-04T16:30:00"))
    assert "复核" in reason
    assert reasons_for(data, review("recheck", "孙立军", "2025-09-03T11:00:00")) == []


def test_9_3_time_may_not_go_backwards_nor_approve_twice() -> None:
    data = unreviewed()
    data["reviews"] = [review("proofread", "赵丽", "2025-09-02T15:00:00")]
    assert any("早于" in r for r in reasons_for(data, review("recheck", "孙立军", "2025-09-01T11:00:00")))
    assert any("无需重复" in r for r in reasons_for(data, review("proofread", "赵丽", "2025-09-02T16:00:00")))


def test_9_3_return_reopens_the_case() -> None:
    data = slope()  # all three approved
    data["reviews"].append(review("approve", "刘建国", "2025-09-04T17:00:00", "return", "结论措辞需修改"))
    state = review_state(case_from(data))
    assert not state.complete and state.approved == {}
    assert state.last_return is not None and state.last_return.comment == "结论措辞需修改"
    # The same people re-approve, each at their own level, in order.
    (reason,) = reasons_for(data, review("recheck", "孙立军", "2025-09-05T09:00:00"))
    assert "校对" in reason
    data["reviews"] += [review("proofread", "赵丽", "2025-09-05T09:00:00"),
                        review("recheck", "孙立军", "2025-09-05T10:00:00"),
                        review("approve", "刘建国", "2025-09-05T11:00:00")]
    assert review_state(case_from(data)).complete


def test_9_3_invalid_recorded_reviews_do_not_count() -> None:
    data = slope()
    data["reviews"][2]["reviewer"] = "陈晓梅"  # a handler approving her own report, edited into the file by hand
    state = review_state(case_from(data))
    assert not state.complete and [i for i, _ in state.problems] == [2]


# ── gongu review: the command writes the decision back without changing anything else ──

def _copy_example(tmp_path: Path, reviews: list[dict] | None = None) -> Path:
    target = tmp_path / "case.json"
    text = SLOPE.read_text(encoding="utf-8")
    if reviews is not None:
        data = json.loads(text)
        data["reviews"] = reviews
        text = json.dumps(data, ensure_ascii=False, indent=2)
    target.write_text(text, encoding="utf-8")
    return target


def _numbers(node: Any) -> list[tuple[str, str]]:
    """Every JSON number with its path, as written (Decimal keeps '28.50' distinct from '28.5')."""
    out: list[tuple[str, str]] = []

    def walk(n: Any, path: str) -> None:
        if isinstance(n, dict):
            for k, v in n.items():
                walk(v, f"{path}.{k}")
        elif isinstance(n, list):
            for i, v in enumerate(n):
                walk(v, f"{path}[{i}]")
        elif isinstance(n, Decimal):
            out.append((path, str(n)))

    walk(node, "$")
    return out


def test_gongu_review_records_in_order_and_keeps_everything_else(tmp_path: Path) -> None:
    case_file = tmp_path / "case.json"
    data = parse_json(SLOPE.read_text(encoding="utf-8"))
    data["reviews"] = []
    # Numbers written as JSON numbers with trailing zeros and exponents must survive byte-for-byte in value.
    data["losses"][0]["unit_price"] = Decimal("28.50")
    data["losses"][1]["quantity"] = Decimal("860.000")
    data["rescue_costs"][0]["claimed"] = Decimal("1.86E+5")
    import simplejson

    case_file.write_text(simplejson.dumps(data, use_decimal=True, ensure_ascii=False, indent=2), encoding="utf-8")
    before = parse_json(case_file.read_text(encoding="utf-8"))

    steps = [("proofread", "赵丽", "2025-09-02T15:00:00+08:00"), ("recheck", "孙立军", "2025-09-03T11:00:00+08:00"),
             ("approve", "刘建国", "2025-09-04T16:30:00+08:00")]
    for level, who, at in steps:
        result = runner.invoke(app, ["review", str(case_file), "--level", level, "--reviewer", who,
                                     "--decision", "approve", "--comment", f"{who}意见", "--at", at])
        assert result.exit_code == 0, result.output
    after = parse_json(case_file.read_text(encoding="utf-8"))
    assert [(r["level"], r["reviewer"], r["at"], r["comment"]) for r in after["reviews"]] == [
        (lv, who, at, f"{who}意见") for lv, who, at in steps]
    assert _numbers(after) == _numbers(before)
    assert ("$.losses[0].unit_price", "28.50") in _numbers(after)
    assert ("$.rescue_costs[0].claimed", "1.86E+5") in _numbers(after)
    after.pop("reviews")
    before.pop("reviews")
    assert after == before
    assert review_state(load_case(case_file).case).complete
    assert not list(tmp_path.glob(".*.tmp"))  # no temp file left behind


@pytest.mark.parametrize(("args", "why"), [
    (["--level", "proofread", "--reviewer", "王志强"], "承办人员"),
    (["--level", "recheck", "--reviewer", "孙立军"], "尚未通过"),
])
def test_gongu_review_refuses_with_reason_exit_2(tmp_path: Path, args: list[str], why: str) -> None:
    case_file = _copy_example(tmp_path, reviews=[])
    before = case_file.read_bytes()
    result = runner.invoke(app, ["review", str(case_file), *args, "--decision", "approve",
                                 "--at", "2025-09-02T15:00:00"])
    assert result.exit_code == 2
    assert why in result.output
    assert case_file.read_bytes() == before  # nothing written


def test_gongu_review_bad_time_and_bad_level_exit_2(tmp_path: Path) -> None:
    case_file = _copy_example(tmp_path, reviews=[])
    result = runner.invoke(app, ["review", str(case_file), "--level", "proofread", "--reviewer", "赵丽",
                                 "--decision", "approve", "--at", "yesterday"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    result = runner.invoke(app, ["review", str(case_file), "--level", "final", "--reviewer", "赵丽",
                                 "--decision", "approve"])
    assert result.exit_code == 2


def test_gongu_review_return_reopens(tmp_path: Path) -> None:
    case_file = _copy_example(tmp_path)  # the example: three approvals
    result = runner.invoke(app, ["review", str(case_file), "--level", "approve", "--reviewer", "刘建国",
                                 "--decision", "return", "--comment", "请补充气象资料", "--at", "2025-09-05T09:00:00"])
    assert result.exit_code == 0, result.output
    state = review_state(load_case(case_file).case)
    assert not state.complete and state.last_return is not None
    check = runner.invoke(app, ["check", str(case_file)])
    assert check.exit_code == 1 and "退回" in check.output


def test_9_3_an_issuance_closes_the_round() -> None:
    data = slope()
    data["issuances"] = [{"number": "SA-GC-20250905-017", "issued_at": "2025-09-05T15:00:00"}]
    # The round that led to the issuance still stands …
    assert review_state(case_from(data)).complete
    # … until someone reviews after it: then the corrected report needs all three levels again.
    new = review("proofread", "赵丽", "2025-09-19T09:00:00")
    assert reasons_for(data, new) == []
    assert any("校对" in r for r in reasons_for(data, review("recheck", "孙立军", "2025-09-19T09:30:00")))
    data["reviews"].append(new)
    state = review_state(case_from(data))
    assert not state.complete and set(state.approved) == {"proofread"}


# ── the forensic kind: the 复核 level is entered by the person who signed the 复核意见 (通则 Art 35) ──

def _forensic_file(tmp_path: Path, reviews: list[dict]) -> Path:
    """Example (a) — 复核意见 signed by 宋建华; its regular 签发人 is 罗永康 — with the given reviews."""
    data = json.loads(FORENSIC_JOINT.read_text(encoding="utf-8"))
    data["reviews"] = reviews
    target = tmp_path / "forensic.json"
    target.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return target


def test_art_35_recheck_by_another_than_the_review_opinion_signer_is_refused_at_review(tmp_path: Path) -> None:
    case_file = _forensic_file(tmp_path, [review("proofread", "王一帆", "2026-05-27T10:00:00")])
    before = case_file.read_bytes()
    # The 签发人 罗永康 typed in at the 复核 level by mistake: refused now, not only by `gongu check` later.
    result = runner.invoke(app, ["review", str(case_file), "--level", "recheck", "--reviewer", "罗永康",
                                 "--decision", "approve", "--at", "2026-05-27T15:00:00"])
    assert result.exit_code == 2, result.output
    assert "宋建华" in result.output and "罗永康" in result.output and "应为同一人" in result.output
    assert "Traceback" not in result.output
    assert case_file.read_bytes() == before  # nothing written
    # The signer of the 复核意见 at the 复核 level, then 罗永康 at his own 签发 level: both recorded.
    for level, who, at in (("recheck", "宋建华", "2026-05-27T15:00:00"), ("approve", "罗永康", "2026-05-28T17:00:00")):
        result = runner.invoke(app, ["review", str(case_file), "--level", level, "--reviewer", who,
                                     "--decision", "approve", "--at", at])
        assert result.exit_code == 0, result.output
    assert review_state(load_case(case_file).case).complete


def test_art_35_signer_rule_applies_to_a_return_and_names_both_persons() -> None:
    data = forensic_joint()
    data["reviews"] = [review("proofread", "王一帆", "2026-05-27T10:00:00")]
    case = validate_data(data, "<test>")
    (reason,) = check_new_review(case, Review.model_validate(
        review("recheck", "罗永康", "2026-05-27T15:00:00", "return", "请补充")))
    assert reason == "复核意见由「宋建华」签署，复核（recheck）却由「罗永康」审核，两者应为同一人（通则 Art 35）"
    # 校对 has no signed record of its own: 罗永康 there meets only the ordinary rules (here: already passed).
    assert check_new_review(case, Review.model_validate(review("proofread", "罗永康", "2026-05-27T11:00:00"))) == [
        "校对（proofread）在本轮已通过，无需重复"]


def test_art_35_a_mistaken_entry_and_a_return_no_longer_lock_out_the_regular_reviewers() -> None:
    """The review that found the fault: a mistaken 复核 entry by 罗永康 (written into the file, e.g. before the
    review-time check existed), returned; the regular 复核人 宋建华 and 签发人 罗永康 then complete a new round."""
    data = forensic_joint()
    data["reviews"] = [review("proofread", "王一帆", "2026-05-27T10:00:00"),
                       review("recheck", "罗永康", "2026-05-27T11:00:00"),
                       review("recheck", "罗永康", "2026-05-27T11:05:00", "return", "误录")]
    data["reviews"] += [review("proofread", "王一帆", "2026-05-27T14:00:00"),
                        review("recheck", "宋建华", "2026-05-27T15:00:00"),
                        review("approve", "罗永康", "2026-05-28T17:00:00")]
    state = review_state(validate_data(data, "<test>"))
    assert state.complete and state.problems == []
    assert forensic_findings(lambda d: d.update(reviews=data["reviews"])) == []


def test_gongu_review_needs_the_reviewers_own_credential_and_logs_it(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """One shell user could record all three levels under three registered names: each level now needs the
    reviewer's own account password (or signing key), for an account holding that level's role."""
    from tests.archivekit import open_archive
    from tests.webkit import make_account

    home = tmp_path / "firm"
    people_home(home, monkeypatch, names=["赵丽", "孙立军", "刘建国"])
    make_account(home, "zhaoli", {"proofreader"}, "赵丽", "zl-own-pass-2026-q")
    make_account(home, "sun", {"proofreader"}, "孙立军", "sun-own-password-1")  # not a 复核 (rechecker) account
    case_file = _copy_example(tmp_path, reviews=[])
    before = case_file.read_bytes()

    def review_as(level: str, who: str, password: str | None) -> Any:
        env = {"GONGU_PASSWORD": password} if password is not None else {}
        monkeypatch.delenv("GONGU_PASSWORD", raising=False)
        return runner.invoke(app, ["review", str(case_file), "--level", level, "--reviewer", who,
                                   "--decision", "approve", "--at", "2025-09-02T15:00:00"], env=env)

    for password, why in ((None, "须由 赵丽 本人确认"), ("sun-own-password-1", "赵丽 的账户密码不正确")):
        result = review_as("proofread", "赵丽", password)
        assert result.exit_code == 2 and why in " ".join(result.output.split()), result.output
    assert case_file.read_bytes() == before  # nothing written
    result = review_as("proofread", "赵丽", "zl-own-pass-2026-q")
    assert result.exit_code == 0, result.output
    result = review_as("recheck", "孙立军", "sun-own-password-1")
    assert result.exit_code == 2 and "rechecker" in result.output
    result = review_as("recheck", "刘建国", "whatever-password")
    assert result.exit_code == 2 and "刘建国 没有可用的" in " ".join(result.output.split())
    assert [r["reviewer"] for r in json.loads(case_file.read_text(encoding="utf-8"))["reviews"]] == ["赵丽"]
    with open_archive(home) as archive:
        [event] = [e for e in archive.catalog.events() if e.kind == "review"]
    assert (event.actor, event.case_id, event.details["level"], event.details["credential"]) == (
        "赵丽", "SAGC-2025-0712", "proofread", {"method": "password", "account": "zhaoli"})
