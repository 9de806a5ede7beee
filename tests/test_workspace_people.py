"""Signatures follow people, a report number belongs to one report, one issuance at a time — in the web
workspace's store (gongu/pipeline/workspace.py, archive/workspace_steps.py, gongu/pipeline/report_numbers.py), on the
embedded SQLite catalog and on PostgreSQL, with the real loader, rules and case files."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from archive.catalog import Catalog
from archive.workspace import get_case, put_case
from archive.workspace_steps import STALE_AFTER, confirmations, current_lock, release_lock, take_lock
from gongu.pipeline.workspace import (
    IssueInProgress,
    UploadRefused,
    WorkspaceRefused,
    case_file,
    confirm_signature,
    issue_and_archive,
    review_case,
    submit_case,
    unconfirmed_signers,
    upload_case,
)
from gongu.pipeline.workspace import load as load_ws
from gongu.settings import load_settings
from tests import test_workspace_store as store
from tests.storekit import store_kind  # noqa: F401  (module-scoped, parametrised: sqlite, postgresql)
from tests.test_workspace_store import HANDLER, NOW, OTHER_HANDLER, PROOF, RECHECK, Acct, example_data, files_of

home, catalog = store.home, store.catalog  # the same fixtures: a home with registered people, its catalog

APPROVER = Acct(6, "liu", "刘建国", frozenset({"approver"}))
NUMBER = "SA-GC-20250905-017"  # the slope-collapse example's report number


def _reviewed(catalog: Catalog, home: Path) -> str:
    """The example uploaded by 王志强, submitted and approved at the three levels: ready to issue."""
    settings = load_settings(home)
    row = upload_case(catalog, home, files_of(example_data()), account=HANDLER, now=NOW)
    submit_case(catalog, home, row.case_id, account=HANDLER, now=NOW)
    for n, (who, level) in enumerate(((PROOF, "proofread"), (RECHECK, "recheck"), (APPROVER, "approve"))):
        review_case(catalog, home, row.case_id, account=who, level=level, decision="approve", comment=None,
                    now=f"2026-01-05T1{n}:00:00+08:00", settings=settings)
    return row.case_id


# ───────────────────────────── signatures follow people ─────────────────────────────

def test_an_account_not_named_on_the_case_cannot_upload_it(catalog: Catalog, home: Path) -> None:
    stranger = Acct(8, "zheng", "郑丽娟", frozenset({"handler"}))  # pile-collapse's handler, not this case's
    with pytest.raises(WorkspaceRefused) as info:
        upload_case(catalog, home, files_of(example_data()), account=stranger, now=NOW)
    assert info.value.reasons == ["账户 zheng（郑丽娟）不是本案的承办人员（王志强、陈晓梅）：只能上传、确认本人署名的案件"
                                  "——报告上的签名只属于用本人账户办理的人"]
    assert get_case(catalog, example_data()["case_id"]) is None and not (home / "workspace" / "SA-2025-0917").exists()


def test_the_other_handler_confirms_with_her_own_account_before_the_issue(catalog: Catalog, home: Path) -> None:
    settings = load_settings(home)
    case_id = _reviewed(catalog, home)
    row = get_case(catalog, case_id)
    assert row is not None
    assert unconfirmed_signers(catalog, row, load_ws(home, case_id)) == [
        "承办人员「陈晓梅」尚未用本人账户确认署名（案件页「确认署名」），不能以其名义签名"]
    with pytest.raises(WorkspaceRefused) as info:  # refused before anything is rendered, naming her
        issue_and_archive(catalog, home, case_id, account=APPROVER, now=NOW, settings=settings)
    assert info.value.reasons == ["承办人员「陈晓梅」尚未用本人账户确认署名（案件页「确认署名」），不能以其名义签名"]
    # nobody confirms for her: not the uploader, not an account of another person, not a reviewer
    for account, words in ((HANDLER, "上传了本案"), (Acct(8, "zheng", "郑丽娟", frozenset({"handler"})), "不是本案的承办人员"),
                           (Acct(9, "chen-r", "陈晓梅", frozenset({"proofreader"})), "须有「承办」角色")):
        with pytest.raises(WorkspaceRefused) as info:
            confirm_signature(catalog, home, case_id, account=account, now=NOW)
        assert any(words in r for r in info.value.reasons), info.value.reasons
    assert confirmations(catalog, case_id) == {}
    confirm_signature(catalog, home, case_id, account=OTHER_HANDLER, now=NOW)
    assert [(c.person, c.account) for c in confirmations(catalog, case_id).values()] == [("陈晓梅", "chen")]
    assert unconfirmed_signers(catalog, row, load_ws(home, case_id)) == []
    # a review added to the file is not a change of content; a changed case needs her confirmation again
    data = json.loads(case_file(home, case_id).read_text(encoding="utf-8"))
    data["case_name"] += "（修改）"
    case_file(home, case_id).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert unconfirmed_signers(catalog, row, load_ws(home, case_id)) == [
        "承办人员「陈晓梅」确认署名后案件内容已改动，须用本人账户重新确认署名"]


# ───────────────────────────── a report number belongs to one report ─────────────────────────────

def _package(catalog: Catalog, case_id: str, number: str) -> None:
    with catalog.write():
        catalog.add_package(case_id=case_id, report_number=number, rel_path=f"packages/2025/{case_id}", year=2025,
                            kind="car_survey", statutory=0, retention_class="R10", closed_at="2025-09-30",
                            retention_until="2035-12-31", package_hash="0" * 64, payload_hash="0" * 64, file_count=1,
                            byte_count=1, ingested_at="2025-10-01T10:00:00+08:00", ingested_by="zhou")


def test_an_archived_number_is_refused_at_upload(catalog: Catalog, home: Path) -> None:
    _package(catalog, "OTHER-CASE-1", NUMBER)
    with pytest.raises(UploadRefused) as info:
        upload_case(catalog, home, files_of(example_data()), account=HANDLER, now=NOW)
    [problem] = info.value.problems
    assert (problem.path, problem.title, problem.value) == ("$.report.number", "报告编号", NUMBER)
    assert problem.message.startswith(f"报告编号 {NUMBER} 已归档：案件 OTHER-CASE-1 的档案包 packages/2025/OTHER-CASE-1。")
    assert "--reissue" in problem.message
    assert not list((home / "workspace").iterdir())


def test_another_workspace_cases_issued_copy_takes_the_number(catalog: Catalog, home: Path) -> None:
    copy = home / "issued" / "OTHER-CASE-2" / f"{NUMBER}.pdf"
    copy.parent.mkdir(parents=True)
    copy.write_bytes(b"%PDF-1.7 issued elsewhere")
    with pytest.raises(UploadRefused) as info:
        upload_case(catalog, home, files_of(example_data()), account=HANDLER, now=NOW)
    assert [p.message.split("。")[0] for p in info.value.problems] == [
        f"报告编号 {NUMBER} 已有出具的报告 issued/OTHER-CASE-2/{NUMBER}.pdf（案件 OTHER-CASE-2）"]


def test_a_number_taken_after_upload_is_refused_at_submit_and_issue(catalog: Catalog, home: Path) -> None:
    settings = load_settings(home)
    row = upload_case(catalog, home, files_of(example_data()), account=HANDLER, now=NOW)
    with catalog.write():  # meanwhile another case of the workspace was issued under the same number
        put_case(catalog, case_id="OTHER-CASE-3", kind="car_survey", status="issued", handler="x", handler_person="某",
                 case_name="某", project="", insured="", report_number=NUMBER, next_level=None, at=NOW)
    with pytest.raises(WorkspaceRefused) as info:
        submit_case(catalog, home, row.case_id, account=HANDLER, now=NOW)
    assert info.value.reasons[1:] == [f"报告编号 {NUMBER} 已由工作台案件 OTHER-CASE-3 出具。同一报告编号只能属于一份报告："
                                      "更正重出请用 gongu issue --reissue（编号加 R1、R2 …），新报告请另编报告编号（$.report.number）"]
    with catalog.write():
        put_case(catalog, case_id="OTHER-CASE-3", kind="car_survey", status="draft", handler="x", handler_person="某",
                 case_name="某", project="", insured="", report_number=NUMBER, next_level=None, at=NOW)
    submit_case(catalog, home, row.case_id, account=HANDLER, now=NOW)
    for n, (who, level) in enumerate(((PROOF, "proofread"), (RECHECK, "recheck"), (APPROVER, "approve"))):
        review_case(catalog, home, row.case_id, account=who, level=level, decision="approve", comment=None,
                    now=f"2026-01-05T1{n}:00:00+08:00", settings=settings)
    confirm_signature(catalog, home, row.case_id, account=OTHER_HANDLER, now=NOW)
    _package(catalog, "OTHER-CASE-4", NUMBER)  # archived from the command line in the meantime
    with pytest.raises(WorkspaceRefused) as info:
        issue_and_archive(catalog, home, row.case_id, account=APPROVER, now=NOW, settings=settings)
    assert [r.split("：")[0] for r in info.value.reasons] == [f"报告编号 {NUMBER} 已归档"]
    assert get_case(catalog, row.case_id).status == "in_review"  # type: ignore[union-attr]
    assert current_lock(catalog, row.case_id) is None  # a refusal gives the lock back


# ───────────────────────────── one issuance at a time ─────────────────────────────

def test_the_issue_lock_is_one_row_per_case_and_a_stale_one_is_taken_over(catalog: Catalog, home: Path) -> None:
    t0 = datetime.fromisoformat(NOW)
    token, held = take_lock(catalog, "C-1", account="liu", now=t0)
    assert token and held is None
    again, holder = take_lock(catalog, "C-1", account="ma", now=t0 + timedelta(seconds=1))
    assert again is None and holder is not None and (holder.account, holder.started_at) == ("liu", NOW)
    other, _ = take_lock(catalog, "C-2", account="ma", now=t0)  # another case is not held up
    assert other
    # a worker that died mid-issue: after STALE_AFTER its lock is taken over, and its late release is a no-op
    late, _ = take_lock(catalog, "C-1", account="ma", now=t0 + STALE_AFTER + timedelta(seconds=1))
    assert late and late != token
    release_lock(catalog, "C-1", token)
    assert current_lock(catalog, "C-1").account == "ma"  # type: ignore[union-attr]
    release_lock(catalog, "C-1", late)
    assert current_lock(catalog, "C-1") is None


def test_a_second_issue_while_one_runs_is_told_it_is_running(catalog: Catalog, home: Path) -> None:
    settings = load_settings(home)
    case_id = _reviewed(catalog, home)
    confirm_signature(catalog, home, case_id, account=OTHER_HANDLER, now=NOW)
    token, _ = take_lock(catalog, case_id, account="liu", now=datetime.fromisoformat(NOW))  # the first click
    assert token
    second = Acct(10, "ma", "马某", frozenset({"approver"}))
    with pytest.raises(IssueInProgress) as info:
        issue_and_archive(catalog, home, case_id, account=second, now="2026-01-05T09:00:01+08:00", settings=settings)
    assert info.value.reasons == [f"正在出具：账户 liu 于 {NOW} 开始出具本案报告，请勿重复提交；完成后案件页显示出具结果"]
    assert current_lock(catalog, case_id).token == token  # type: ignore[union-attr]  # the first keeps its lock




def test_a_forensic_case_needs_each_appraisers_own_account(catalog: Catalog, home: Path) -> None:
    """通则 Art 19: the 意见书 is signed by its appraisers — 李建国 uploads, 周静 confirms for herself."""
    import io

    folder = store.EXAMPLE.parent / "forensic-single-no-disability"
    data = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    data.pop("reviews")
    data.pop("issuances", None)

    def files() -> list[tuple[str, io.BytesIO]]:
        out = [("case.json", io.BytesIO(json.dumps(data, ensure_ascii=False).encode()))]
        return out + [(str(p.relative_to(folder)), io.BytesIO(p.read_bytes())) for p in sorted(folder.rglob("*"))
                      if p.is_file() and p.name != "case.json"]

    with pytest.raises(WorkspaceRefused) as info:  # an appraiser of another case
        upload_case(catalog, home, files(), account=Acct(7, "liu", "刘国华", frozenset({"appraiser"})), now=NOW)
    assert info.value.reasons[0].startswith("账户 liu（刘国华）不是本案的鉴定人（李建国、周静）")
    row = upload_case(catalog, home, files(), account=Acct(7, "li", "李建国", frozenset({"appraiser"})), now=NOW)
    assert unconfirmed_signers(catalog, row, load_ws(home, row.case_id)) == [
        "鉴定人「周静」尚未用本人账户确认署名（案件页「确认署名」），不能以其名义签名"]
    with pytest.raises(WorkspaceRefused):  # a survey handler's role is not an appraiser's
        confirm_signature(catalog, home, row.case_id, account=Acct(8, "zj", "周静", frozenset({"handler"})), now=NOW)
    confirm_signature(catalog, home, row.case_id, account=Acct(9, "zhou", "周静", frozenset({"appraiser"})), now=NOW)
    assert unconfirmed_signers(catalog, row, load_ws(home, row.case_id)) == []


def test_a_report_published_meanwhile_is_a_refusal_not_a_traceback(tmp_path: Path) -> None:
    """The publish step of gongu issue: a run that lost the race to another (same target) is told so
    (IssueFileExists, exit 2 on the CLI) and the winner's file is left as it was."""
    from gongu.pipeline.issuing import IssueFileExists, _publish

    source, target = tmp_path / "sealed.pdf", tmp_path / "SA-017.pdf"
    source.write_bytes(b"%PDF loser")
    target.write_bytes(b"%PDF winner")
    with pytest.raises(IssueFileExists) as info:
        _publish(source, target)
    assert info.value.paths == [str(target)] and target.read_bytes() == b"%PDF winner"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["SA-017.pdf", "sealed.pdf"]  # no temp file left


def test_racing_workers_each_with_its_own_catalog_get_one_lock(catalog: Catalog, home: Path) -> None:
    """Four workers (threads, each with its own Catalog connection, as web workers or offices have) ask for the
    same case's issue lock at once: exactly one gets it, the others are told who holds it."""
    import threading

    from archive.catalog import ServerStore

    url = load_settings(home).store.url
    workers = [Catalog(ServerStore(url, files_dir=home / "archive" / "packages") if url
                       else home / "archive" / "catalog.sqlite") for _ in range(4)]
    start = threading.Barrier(len(workers))
    results: list[tuple[str | None, str | None]] = []

    def run(index: int) -> None:
        start.wait()
        token, held = take_lock(workers[index], "C-RACE", account=f"w{index}", now=datetime.fromisoformat(NOW))
        results.append((token, held.account if held else None))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        for w in workers:
            w.close()
    winners = [token for token, _ in results if token]
    assert len(results) == 4 and len(winners) == 1
    holder = current_lock(catalog, "C-RACE")
    assert holder is not None and holder.token == winners[0]
    assert {who for token, who in results if not token} == {holder.account}
