"""The verifiable random draw (issue 14 §2): eligibility rules (通则 Art 20–21, 32; Sichuan 二(三), 二(四)),
the list hash and acknowledgements, the public value named in advance, commit–reveal, the seed and the
unbiased shuffle (RFC 3797 model, SHA-256), declines, and `verify_record` catching every changed input."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from generator.forensic import draw
from generator.forensic.draw import DrawRefused, Objection, Original
from generator.forensic.roster import RosterEntry, RosterSnapshot
from gongu.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "forms" / "rosters" / "demo-sichuan-roster-FICTIONAL.csv"
EXAMPLE = ROOT / "examples" / "forensic-joint-grade10" / "case.json"
CLINICAL = "法医临床鉴定"
PATHOLOGY = "法医病理鉴定"
SIDES = ["何建平", "保险公司"]
SECRET_A = "secret-of-side-A-0001"
SECRET_B = "secret-of-side-B-0002"
NUMBERS = [3, 7, 12, 19, 25, 31, 9]


def flat(output: str) -> str:
    """The output without the line breaks the console inserts at its width (it may be 80 columns)."""
    return output.replace("\n", "")


def entry(licence: str, name: str, scopes: tuple[str, ...] = (CLINICAL,), seniors: tuple[str, ...] = ("高级甲",)) -> RosterEntry:
    return RosterEntry(name=name, licence_no=licence, scopes=scopes, city="成都", senior_appraisers=seniors)


ROSTER = (
    entry("510100001", "甲鉴定所", (CLINICAL, PATHOLOGY)),
    entry("510100002", "乙鉴定所"),
    entry("510100003", "丙鉴定所", (CLINICAL, PATHOLOGY), ()),
    entry("510100004", "丁鉴定所", (PATHOLOGY,)),
    entry("510100005", "戊鉴定所", (CLINICAL, PATHOLOGY)),
)


def snapshot(entries: tuple[RosterEntry, ...] = ROSTER) -> RosterSnapshot:
    return RosterSnapshot("测试名册（虚构）", "test.csv", "0" * 64, "2026-05-06T09:00:00+08:00", entries)


def complete_record(secrets: bool = True, **options: Any) -> dict[str, Any]:
    """A whole draw with fixed times: prepare → ack ×2 → declare → commit ×2 → reveal ×2 → run."""
    r = draw.new_record(case_id="SJ-T-1", case_name="测试", matters=[], required_scopes=[CLINICAL], roster=snapshot(),
                        sides=SIDES, prepared_at="2026-05-06T10:00:00+08:00", **options)
    for side in SIDES:
        r = draw.acknowledge(r, side, r["list_hash"], "2026-05-06T10:05:00+08:00")
    r = draw.declare(r, "中国福利彩票双色球", "2026051", "2026-05-06T10:10:00+08:00")
    if secrets:
        r = draw.commit(r, SIDES[0], draw.commitment(SECRET_A), "2026-05-06T10:11:00+08:00")
        r = draw.commit(r, SIDES[1], draw.commitment(SECRET_B), "2026-05-06T10:12:00+08:00")
        r = draw.reveal(r, SIDES[0], SECRET_A, "2026-05-07T09:00:00+08:00")
        r = draw.reveal(r, SIDES[1], SECRET_B, "2026-05-07T09:01:00+08:00")
    return draw.run(r, NUMBERS, "2026-05-06T21:30:00+08:00", "2026-05-07T09:02:00+08:00")


def paths(record: dict[str, Any]) -> set[str]:
    return {p.path for p in draw.verify_record(record)}


# ─────────────────────────────────────── eligibility ─────────────────────────────────────────


def excluded(result: draw.Eligibility, licence: str) -> set[str]:
    return {x["rule"] for x in result.exclusions if x["licence_no"] == licence}


def test_scope_must_cover_the_matters_sichuan_2_3() -> None:
    result = draw.eligibility(ROSTER, [CLINICAL])
    assert excluded(result, "510100004") == {"scope"}  # 丁: pathology only — fail
    assert excluded(result, "510100002") == set()  # 乙: clinical — pass
    assert [e.licence_no for e in result.eligible] == ["510100001", "510100002", "510100003", "510100005"]


def test_declared_conflict_excludes_with_who_and_why_tongze_20() -> None:
    result = draw.eligibility(ROSTER, [CLINICAL], [Objection("510100002", "何建平", "曾为对方出具意见")])
    [x] = [x for x in result.exclusions if x["licence_no"] == "510100002"]
    assert x["rule"] == "conflict" and "何建平" in x["reason"] and "曾为对方出具意见" in x["reason"] and "Art 20" in x["clause"]
    assert excluded(result, "510100001") == set()  # no conflict declared: passes


def test_recusal_request_excludes_only_the_named_institution_tongze_20_21() -> None:
    result = draw.eligibility(ROSTER, [CLINICAL], [Objection("510100005", "保险公司", "负责人系当事人近亲属", "recusal")])
    assert excluded(result, "510100005") == {"recusal"}
    assert excluded(result, "510100001") == set()


def test_objection_against_an_unknown_licence_is_refused() -> None:
    with pytest.raises(DrawRefused, match="不在名册中"):
        draw.eligibility(ROSTER, [CLINICAL], [Objection("999", "何建平", "笔误")])


ORIGINAL = Original("510100001", "甲鉴定所", (CLINICAL, PATHOLOGY))


def test_reappraisal_excludes_the_original_institution_tongze_32() -> None:
    result = draw.eligibility(ROSTER, [CLINICAL], original=ORIGINAL)
    assert "reappraisal_original" in excluded(result, "510100001")  # fail: the original
    assert excluded(result, "510100005") == set()  # pass: another institution, same scopes, a senior


def test_reappraisal_qualification_not_lower_than_the_original_sichuan_2_4() -> None:
    result = draw.eligibility(ROSTER, [CLINICAL], original=ORIGINAL)
    # 乙 lacks 法医病理鉴定, which the original holds in the same 法医类 category: lower — fail.
    assert excluded(result, "510100002") == {"reappraisal_qualification"}
    assert excluded(result, "510100005") == set()  # holds both: not lower — pass
    assert draw.relevant_original_scopes(ORIGINAL, [CLINICAL]) == sorted([CLINICAL, PATHOLOGY])


def test_reappraisal_needs_a_senior_title_appraiser_tongze_32() -> None:
    result = draw.eligibility(ROSTER, [CLINICAL], original=ORIGINAL)
    assert excluded(result, "510100003") == {"reappraisal_senior"}  # 丙: no senior — fail
    assert "reappraisal_senior" not in excluded(result, "510100005")  # 戊: one senior — pass
    # Outside a re-appraisal the senior title is not asked for.
    assert excluded(draw.eligibility(ROSTER, [CLINICAL]), "510100003") == set()


def test_reappraisal_where_only_the_original_remains_is_refused_with_the_clause() -> None:
    roster = (entry("510100001", "甲鉴定所"), entry("510100004", "丁鉴定所", (PATHOLOGY,)))
    with pytest.raises(DrawRefused, match=r"通则 Art 32") as info:
        draw.new_record(case_id="C", case_name="n", matters=[], required_scopes=[CLINICAL], roster=snapshot(roster),
                        sides=SIDES, prepared_at="2026-05-06T10:00:00+08:00",
                        original=Original("510100001", "甲鉴定所", (CLINICAL,)))
    assert "不能抽取" in str(info.value) and "原鉴定机构" in str(info.value)


def test_reappraisal_where_only_institutions_without_a_senior_remain_is_refused_with_the_clause() -> None:
    roster = (entry("510100001", "甲鉴定所"), entry("510100002", "乙鉴定所", seniors=()), entry("510100003", "丙鉴定所", seniors=()))
    with pytest.raises(DrawRefused, match=r"高级专业技术职称.*通则 Art 32"):
        draw.new_record(case_id="C", case_name="n", matters=[], required_scopes=[CLINICAL], roster=snapshot(roster),
                        sides=SIDES, prepared_at="2026-05-06T10:00:00+08:00",
                        original=Original("510100001", "甲鉴定所", (CLINICAL,)))


# ─────────────────────────────── steps refused out of order ──────────────────────────────────


def prepared() -> dict[str, Any]:
    return draw.new_record(case_id="SJ-T-1", case_name="测试", matters=[], required_scopes=[CLINICAL], roster=snapshot(),
                           sides=SIDES, prepared_at="2026-05-06T10:00:00+08:00")


def test_acknowledging_another_hash_is_refused() -> None:
    r = prepared()
    with pytest.raises(DrawRefused, match="不一致"):
        draw.acknowledge(r, SIDES[0], "0" * 64, "2026-05-06T10:05:00+08:00")


def test_declaration_needs_both_acknowledgements_first() -> None:
    r = draw.acknowledge(prepared(), SIDES[0], prepared()["list_hash"], "2026-05-06T10:05:00+08:00")
    with pytest.raises(DrawRefused, match=SIDES[1]):
        draw.declare(r, "双色球", "2026051", "2026-05-06T10:10:00+08:00")


def test_public_value_published_before_the_declaration_is_refused() -> None:
    r = prepared()
    for side in SIDES:
        r = draw.acknowledge(r, side, r["list_hash"], "2026-05-06T10:05:00+08:00")
    r = draw.declare(r, "双色球", "2026051", "2026-05-06T10:10:00+08:00")
    with pytest.raises(DrawRefused, match="事先指定"):
        draw.run(r, NUMBERS, "2026-05-05T21:30:00+08:00", "2026-05-07T09:00:00+08:00")


def test_reveal_not_matching_the_commitment_and_unrevealed_commitments_are_refused() -> None:
    r = prepared()
    for side in SIDES:
        r = draw.acknowledge(r, side, r["list_hash"], "2026-05-06T10:05:00+08:00")
    r = draw.declare(r, "双色球", "2026051", "2026-05-06T10:10:00+08:00")
    r = draw.commit(r, SIDES[0], draw.commitment(SECRET_A), "2026-05-06T10:11:00+08:00")
    with pytest.raises(DrawRefused, match="不符"):
        draw.reveal(r, SIDES[0], SECRET_B, "2026-05-07T09:00:00+08:00")
    with pytest.raises(DrawRefused, match="尚未公开"):
        draw.run(r, NUMBERS, "2026-05-06T21:30:00+08:00", "2026-05-07T09:00:00+08:00")


def test_a_second_run_is_refused() -> None:
    with pytest.raises(DrawRefused, match="不能重做"):
        draw.run(complete_record(), NUMBERS, "2026-05-06T21:30:00+08:00", "2026-05-07T10:00:00+08:00")


# ───────────────────────────────── reproducible and verifiable ───────────────────────────────


def test_same_inputs_give_the_same_record_and_it_verifies() -> None:
    a, b = complete_record(), complete_record()
    assert a == b
    assert draw.verify_record(a) == []
    assert a["chosen"] == a["order"][0]
    assert sorted(o["licence_no"] for o in a["order"]) == [e["licence_no"] for e in a["eligible"]]


def test_changed_roster_entry_fails_verification() -> None:
    r = complete_record()
    r["roster"]["entries"][1]["city"] = "绵阳"
    assert "$.roster.sha256" in paths(r)


def test_changed_roster_entry_with_its_hash_updated_still_fails() -> None:
    r = complete_record()
    for e in r["roster"]["entries"]:
        if e["licence_no"] == "510100004":
            e["scopes"] = [CLINICAL]  # now eligible: the list, its hash, the seed and order all differ
    r["roster"]["sha256"] = draw.snapshot_from_dict(r["roster"]).sha256
    assert {"$.eligible", "$.list_hash", "$.seed"} <= paths(r)


def test_removed_exclusion_fails_verification() -> None:
    r = complete_record()
    r["exclusions"] = r["exclusions"][1:]
    assert "$.exclusions" in paths(r)


def test_added_objection_fails_verification() -> None:
    r = complete_record()
    r["objections"].append(Objection("510100005", "何建平", "事后补充").as_dict())
    assert {"$.exclusions", "$.eligible", "$.list_hash"} <= paths(r)


def test_changed_public_value_fails_verification() -> None:
    r = complete_record()
    r["result"]["numbers"][0] = 4
    assert "$.seed" in paths(r)


def test_changed_public_issue_fails_verification() -> None:
    r = complete_record()
    r["declaration"]["issue"] = "2026052"
    assert "$.seed" in paths(r)


def test_changed_secret_fails_verification() -> None:
    r = complete_record()
    r["reveals"][1]["secret"] = "secret-of-side-B-0003"
    assert {"$.reveals[1].secret", "$.seed"} <= paths(r)


def test_changed_case_id_fails_verification() -> None:
    r = complete_record()
    r["case_id"] = "SJ-T-2"
    assert "$.seed" in paths(r)


def test_changed_order_fails_verification() -> None:
    r = complete_record()
    r["order"][0], r["order"][1] = r["order"][1], r["order"][0]
    assert "$.order" in paths(r)


def test_changed_chosen_fails_verification() -> None:
    r = complete_record()
    r["chosen"] = r["order"][1]
    assert paths(r) == {"$.chosen", "$.record_digest"}
    r["record_digest"] = draw.record_digest(r)  # a forger who recomputes the digest: the recomputation still sees it
    assert paths(r) == {"$.chosen"}


def test_acknowledgement_of_another_hash_fails_verification() -> None:
    r = complete_record()
    r["acknowledgements"][0]["list_hash"] = "0" * 64
    assert "$.acknowledgements[0].list_hash" in paths(r)


def test_declaration_after_publication_fails_verification() -> None:
    r = complete_record()
    r["declaration"]["declared_at"] = "2026-05-06T22:00:00+08:00"
    assert "$.result.published_at" in paths(r)


def test_unreadable_record_is_one_discrepancy_not_a_crash() -> None:
    r = complete_record()
    del r["result"]["numbers"]
    [problem] = draw.verify_record(r)
    assert problem.path == "$"


# ────────────────────────────────────────── declines ─────────────────────────────────────────


def test_a_decline_moves_to_the_next_in_the_order_never_a_redraw() -> None:
    r = complete_record()
    first, second = r["order"][0], r["order"][1]
    r2 = draw.decline(r, first["licence_no"], "鉴定人手头案件过多，无法按期完成", "2026-05-07T11:00:00+08:00")
    assert r2["chosen"] == second
    assert r2["order"] == r["order"] and r2["seed"] == r["seed"]
    r3 = draw.decline(r2, second["licence_no"], "与被鉴定人存在亲属关系", "2026-05-07T12:00:00+08:00", "recused")
    assert r3["chosen"] == r["order"][2]
    assert draw.verify_record(r3) == []


def test_only_the_chosen_institution_may_decline() -> None:
    r = complete_record()
    with pytest.raises(DrawRefused, match="当前选中"):
        draw.decline(r, r["order"][1]["licence_no"], "理由", "2026-05-07T11:00:00+08:00")


def test_a_decline_recorded_out_of_order_fails_verification() -> None:
    r = draw.decline(complete_record(), complete_record()["order"][0]["licence_no"], "无法受理", "2026-05-07T11:00:00+08:00")
    r["declines"][0]["licence_no"] = r["order"][2]["licence_no"]
    assert "$.declines[0].licence_no" in paths(r)


# ─────────────────────────── the stream and shuffle, redone by hand ──────────────────────────


def test_the_draw_redone_with_hashlib_by_hand() -> None:
    """A straightforward re-implementation of docs/draw.md with nothing but hashlib, on the eligible
    list of complete_record() (甲 乙 丙 戊 — 丁 lacks 法医临床鉴定)."""
    r = complete_record()
    listing = "gongu-draw-list/1\n510100001\t甲鉴定所\n510100002\t乙鉴定所\n510100003\t丙鉴定所\n510100005\t戊鉴定所\n"
    list_hash = hashlib.sha256(listing.encode("utf-8")).hexdigest()
    assert r["list_hash"] == list_hash

    def ns(text: str) -> bytes:
        data = text.encode("utf-8")
        return f"{len(data)}:".encode() + data + b","

    # Parties sorted by code point: 何 (U+4F55) before 保 (U+4FDD).
    material = (ns("gongu-draw/1") + ns(list_hash) + ns("SJ-T-1") + ns("中国福利彩票双色球") + ns("2026051")
                + ns("3.7.12.19.25.31.9./") + ns("2") + ns("何建平") + ns(SECRET_A) + ns("保险公司") + ns(SECRET_B))
    assert "何" < "保"
    seed = hashlib.sha256(material).hexdigest()
    assert r["seed"] == seed
    assert hashlib.sha256(b"gongu-draw-commit/1" + SECRET_A.encode()).hexdigest() == r["commitments"][0]["commitment"]

    words: list[int] = []
    for k in range(2):
        block = hashlib.sha256(f"{seed}:{k}".encode("ascii")).hexdigest()
        words += [int(block[i : i + 8], 16) for i in range(0, 64, 8)]
    remaining = ["510100001", "510100002", "510100003", "510100005"]
    order = []
    w = iter(words)
    while len(remaining) > 1:
        m = len(remaining)
        while True:
            u = next(w)
            if u < 2**32 - (2**32 % m):
                break
        order.append(remaining.pop(u % m))
    order += remaining
    assert [o["licence_no"] for o in r["order"]] == order


def test_rejection_sampling_discards_the_biased_tail() -> None:
    # m = 3: 2^32 mod 3 = 1, so 2^32 − 1 is the one value that would favour 0 and is discarded.
    values: Iterator[int] = iter([2**32 - 1, 5])
    trace: list[dict[str, int]] = []
    assert draw.uniform(values, 3, trace) == 2
    assert [t["accepted"] for t in trace] == [0, 1]
    assert draw.uniform(iter([2**32 - 2]), 3) == (2**32 - 2) % 3


def test_the_shuffle_is_unbiased_chi_square() -> None:
    """Where each of 5 items lands over 20,000 shuffles with fixed seeds (the test is deterministic).

    Under a fair shuffle each of the 5 × 5 (item, position) cells expects 20,000 / 5 = 4,000. The
    statistic Σ (observed − 4,000)² / 4,000 over the 25 cells follows χ² with (5 − 1)(5 − 1) = 16 degrees
    of freedom (each row and each column of the table sums to 20,000, which fixes 9 of 25 cells). The
    critical value of χ² with 16 degrees of freedom at p = 0.001 is 39.252 (standard tables; the
    Wilson–Hilferty approximation 16·(1 − 2/144 + 3.0902·√(2/144))³ ≈ 39.4 agrees). A shuffle biased by
    a plain modulo of small numbers or an off-by-one would exceed it by far."""
    n, rounds = 5, 20_000
    counts = [[0] * n for _ in range(n)]
    for i in range(rounds):
        seed = hashlib.sha256(f"chi-square test seed {i}".encode()).hexdigest()
        for position, item in enumerate(draw.shuffle(list(range(n)), seed)):
            counts[item][position] += 1
    expected = rounds / n
    statistic = sum((c - expected) ** 2 / expected for row in counts for c in row)
    assert statistic < 39.252, (statistic, counts)
    # And the test can fail: a biased shuffle (always keep item 0 first half the time) is caught.
    biased = [[0] * n for _ in range(n)]
    for i in range(rounds):
        seed = hashlib.sha256(f"chi-square test seed {i}".encode()).hexdigest()
        order = draw.shuffle(list(range(n)), seed)
        if i % 2 == 0 and order[0] != 0:
            order.remove(0)
            order.insert(0, 0)
        for position, item in enumerate(order):
            biased[item][position] += 1
    assert sum((c - expected) ** 2 / expected for row in biased for c in row) > 39.252


# ───────────────────────────────────────────── CLI ───────────────────────────────────────────


def gongu(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def test_cli_draw_step_by_step_then_verify(tmp_path: Path) -> None:
    rec = tmp_path / "draw.json"
    result = gongu("draw", "prepare", "--case", str(EXAMPLE), "--roster", str(DEMO), "-o", str(rec),
                   "--conflict", "510104021|何建平|该所曾为被保险人出具过意见", "--at", "2026-05-06T10:00:00+08:00")
    assert result.exit_code == 0, result.output
    record = json.loads(rec.read_text(encoding="utf-8"))
    h = record["list_hash"]
    sides = record["sides"]
    assert sides == ["何建平", "中国人民财产保险股份有限公司成都市分公司"]
    assert {x["licence_no"] for x in record["exclusions"]} == {"510104021", "510681019"}
    for side in sides:
        assert gongu("draw", "ack", str(rec), "--party", side, "--hash", h, "--at", "2026-05-06T10:05:00+08:00").exit_code == 0
    assert gongu("draw", "declare", str(rec), "--source", "中国福利彩票双色球", "--issue", "2026051",
                 "--at", "2026-05-06T10:10:00+08:00").exit_code == 0
    commitment = gongu("draw", "commitment", "--secret", SECRET_A).output.strip()
    assert commitment == hashlib.sha256(b"gongu-draw-commit/1" + SECRET_A.encode()).hexdigest()
    assert gongu("draw", "commit", str(rec), "--party", sides[0], "--commitment", commitment,
                 "--at", "2026-05-06T10:11:00+08:00").exit_code == 0
    early = gongu("draw", "run", str(rec), "--numbers", "03 07 12 19 25 31 09", "--published-at", "2026-05-06T21:30:00+08:00",
                  "--at", "2026-05-07T09:00:00+08:00")
    assert early.exit_code == 2 and "尚未公开" in flat(early.output)
    assert gongu("draw", "reveal", str(rec), "--party", sides[0], "--secret", SECRET_A, "--at", "2026-05-07T09:00:00+08:00").exit_code == 0
    ran = gongu("draw", "run", str(rec), "--numbers", "03 07 12 19 25 31 09", "--published-at", "2026-05-06T21:30:00+08:00",
                "--at", "2026-05-07T09:01:00+08:00")
    assert ran.exit_code == 0, ran.output
    verified = gongu("draw", "verify", str(rec))
    assert verified.exit_code == 0 and "重新计算一致" in flat(verified.output)
    tampered = json.loads(rec.read_text(encoding="utf-8"))
    tampered["result"]["numbers"][-1] = 10
    (tmp_path / "tampered.json").write_text(json.dumps(tampered, ensure_ascii=False), encoding="utf-8")
    bad = gongu("draw", "verify", str(tmp_path / "tampered.json"), "--json")
    assert bad.exit_code == 1
    assert "$.seed" in {p["path"] for p in json.loads(bad.stdout)["problems"]}


def test_cli_refusals_exit_2_and_write_nothing(tmp_path: Path) -> None:
    rec = tmp_path / "draw.json"
    assert gongu("draw", "prepare", "--case", str(EXAMPLE), "--roster", str(DEMO), "-o", str(rec)).exit_code == 0
    before = rec.read_bytes()
    wrong = gongu("draw", "ack", str(rec), "--party", "何建平", "--hash", "ab" * 32)
    assert wrong.exit_code == 2 and "不一致" in flat(wrong.output) and "Traceback" not in flat(wrong.output)
    assert rec.read_bytes() == before
    again = gongu("draw", "prepare", "--case", str(EXAMPLE), "--roster", str(DEMO), "-o", str(rec))
    assert again.exit_code == 2 and "不能覆盖" in flat(again.output)
    survey = gongu("draw", "prepare", "--case", str(ROOT / "examples" / "pile-collapse" / "case.json"),
                   "--roster", str(DEMO), "-o", str(tmp_path / "x.json"))
    assert survey.exit_code == 2 and "司法鉴定案件" in flat(survey.output) and not (tmp_path / "x.json").exists()
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json", encoding="utf-8")
    assert gongu("draw", "verify", str(garbage)).exit_code == 2
    assert gongu("draw", "verify", str(tmp_path / "missing.json")).exit_code == 2


def test_cli_reappraisal_needs_the_original_and_excludes_it(tmp_path: Path) -> None:
    case = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    case["commission"]["is_reappraisal"] = True
    case["commission"]["original_opinion"] = "川蜀正〔2026〕临鉴字第0318号，四川蜀正司法鉴定中心"
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    rec = tmp_path / "draw.json"
    missing = gongu("draw", "prepare", "--case", str(path), "--roster", str(DEMO), "-o", str(rec))
    assert missing.exit_code == 2 and "Art 32" in flat(missing.output)
    ok = gongu("draw", "prepare", "--case", str(path), "--roster", str(DEMO), "-o", str(rec), "--original", "510115012")
    assert ok.exit_code == 0, ok.output
    record = json.loads(rec.read_text(encoding="utf-8"))
    assert "510115012" not in {e["licence_no"] for e in record["eligible"]}
    assert {"reappraisal_original"} <= {x["rule"] for x in record["exclusions"] if x["licence_no"] == "510115012"}


def test_record_is_plain_json_that_survives_a_round_trip() -> None:
    r = complete_record()
    again = json.loads(json.dumps(r, ensure_ascii=False))
    assert draw.verify_record(again) == [] and copy.deepcopy(again) == r


def test_the_worked_example_in_docs_verifies_and_quotes_the_record() -> None:
    record = json.loads((ROOT / "docs" / "draw-example-record.json").read_text(encoding="utf-8"))
    doc = (ROOT / "docs" / "draw.md").read_text(encoding="utf-8")
    assert draw.verify_record(record) == []
    assert record["roster"]["sha256"] == draw.snapshot_from_dict(record["roster"]).sha256
    for quoted in (record["list_hash"], record["seed"], record["result"]["value"], record["chosen"]["licence_no"],
                   record["commitments"][0]["commitment"]):
        assert quoted in doc
    assert [o["licence_no"] for o in record["order"]] == [
        "510703015", "510115012", "510107033", "511302036", "510704028", "511102024", "510108047", "510603011"]


def test_cli_verify_a_record_of_the_wrong_shape_exits_2(tmp_path: Path) -> None:
    r = complete_record()
    r["eligible"] = "everyone"
    path = tmp_path / "shape.json"
    path.write_text(json.dumps(r, ensure_ascii=False), encoding="utf-8")
    result = gongu("draw", "verify", str(path))
    assert result.exit_code == 2 and "Traceback" not in flat(result.output)


def test_negative_or_non_integer_numbers_fail_verification() -> None:
    r = complete_record()
    r["result"]["numbers"][2] = -12
    assert "$.result.numbers" in paths(r)


def test_changed_method_statement_fails_verification() -> None:
    r = complete_record()
    r["method"]["sampling"] = "u mod m"
    assert paths(r) == {"$.method", "$.record_digest"}


def test_scope_compared_after_nfc_normalisation() -> None:
    roster = (entry("1", "甲", ("Expertise café",)),)
    result = draw.eligibility(roster, ["Expertise cafe\u0301"])  # e + combining acute = é after NFC
    assert [e.licence_no for e in result.eligible] == ["1"]
