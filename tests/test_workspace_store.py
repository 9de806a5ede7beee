"""The web workspace's case store (archive/workspace.py, gongu/pipeline/workspace.py): upload into
GONGU_HOME/workspace/<case_id>/, status rows, the list's filters and pages, submit, and the three-level
review (9.3) enforced on accounts — real loader and rules, real case files, and a real catalog of
either kind: every test runs on the embedded SQLite catalog and on a PostgreSQL server (issue 16:
the workspace of a multi-office firm lives in the shared catalog)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from archive.catalog import Catalog, ServerStore
from archive.workspace import comments, get_case, list_cases, put_case, status_counts
from gongu.pipeline.upload_staging import clean_name
from gongu.pipeline.workspace import (
    UploadRefused,
    WorkspaceRefused,
    case_file,
    confirm_signature,
    quality_review,
    review_case,
    submit_case,
    upload_case,
)
from gongu.pipeline.workspace import load as load_ws
from gongu.settings import load_settings
from tests.storekit import store_kind  # noqa: F401  (module-scoped, parametrised: sqlite, postgresql)

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "slope-collapse"
NOW = "2026-01-05T09:00:00+08:00"


@dataclass(frozen=True)
class Acct:
    id: int
    username: str
    person: str
    roles: frozenset[str]


HANDLER = Acct(1, "wang", "王志强", frozenset({"handler"}))
OTHER_HANDLER = Acct(2, "chen", "陈晓梅", frozenset({"handler"}))
PROOF = Acct(3, "zhao", "赵丽", frozenset({"proofreader", "rechecker"}))
RECHECK = Acct(4, "sun", "孙立军", frozenset({"rechecker"}))
HANDLER_REVIEWER = Acct(5, "chen2", "陈晓梅", frozenset({"handler", "proofreader"}))  # the example's 2nd handler
LIU = Acct(6, "liu", "刘建国", frozenset({"proofreader", "rechecker"}))


@pytest.fixture()
def home(tmp_path: Path, store_kind: str, request: pytest.FixtureRequest) -> Path:  # noqa: F811
    h = tmp_path / "home"
    h.mkdir()
    names = ["王志强", "陈晓梅", "赵丽", "孙立军", "刘建国", "王五"]
    store = ""
    if store_kind == "postgresql":
        store = f'[store]\nurl = "{request.getfixturevalue("pg_cluster").create_database()}"\n'
    (h / "gongu.toml").write_text(f"[people]\nnames = {json.dumps(names, ensure_ascii=False)}\n{store}",
                                  encoding="utf-8")
    return h


@pytest.fixture()
def catalog(home: Path) -> Any:
    url = load_settings(home).store.url
    cat = Catalog(ServerStore(url, files_dir=home / "archive" / "packages") if url else home / "archive" / "catalog.sqlite")
    yield cat
    cat.close()


def example_data(*, signatures: int = 2) -> dict[str, Any]:
    data = json.loads((EXAMPLE / "case.json").read_text(encoding="utf-8"))
    data.pop("reviews")  # reviews are recorded in the workspace, never uploaded
    data["report"]["signatures"] = data["report"]["signatures"][:signatures]
    return data


def files_of(data: dict[str, Any], prefix: str = "") -> list[tuple[str, io.BytesIO]]:
    out = [(f"{prefix}case.json", io.BytesIO(json.dumps(data, ensure_ascii=False, indent=2).encode()))]
    for photo in sorted((EXAMPLE / "photos").iterdir()):
        out.append((f"{prefix}photos/{photo.name}", io.BytesIO(photo.read_bytes())))
    return out


def test_upload_keeps_relative_names_and_drops_a_folder_uploads_top_folder(catalog: Catalog, home: Path) -> None:
    row = upload_case(catalog, home, files_of(example_data(), "slope-collapse/"), account=HANDLER, now=NOW)
    folder = home / "workspace" / row.case_id
    assert (folder / "case.json").is_file()
    assert sorted(p.name for p in (folder / "photos").iterdir()) == sorted(p.name for p in (EXAMPLE / "photos").iterdir())
    assert (row.status, row.handler, row.handler_person, row.kind) == ("draft", "wang", "王志强", "car_survey")
    assert row.insured and row.project and row.report_number == "SA-GC-20250905-017"
    # nothing but the case folder is left in the workspace (the staging folder is gone)
    assert [p.name for p in (home / "workspace").iterdir()] == [row.case_id]


@pytest.mark.parametrize("name", ["../evil.json", "/etc/passwd", "photos/../../x.jpg", "C:/x.jpg", "a/.hidden",
                                  "photos\\..\\..\\x"])
def test_names_escaping_the_case_folder_are_refused(catalog: Catalog, home: Path, name: str) -> None:
    with pytest.raises(ValueError):
        clean_name(name)
    files = [*files_of(example_data()), (name, io.BytesIO(b"x"))]
    with pytest.raises(UploadRefused) as info:
        upload_case(catalog, home, files, account=HANDLER, now=NOW)
    assert info.value.problems[0].path == name
    assert not (home / "workspace").exists() or list((home / "workspace").iterdir()) == []
    assert list_cases(catalog).total == 0


def test_invalid_case_file_gives_the_loaders_problems_and_stores_nothing(catalog: Catalog, home: Path) -> None:
    data = example_data()
    data["policy"]["insured"] = ""  # min_length 1
    with pytest.raises(UploadRefused) as info:
        upload_case(catalog, home, files_of(data), account=HANDLER, now=NOW)
    [problem] = [p for p in info.value.problems if p.path == "$.policy.insured"]
    assert "被保险人" in problem.title  # the Chinese field title, as `gongu validate` prints it
    assert list((home / "workspace").iterdir()) == []  # the staging folder is gone
    assert get_case(catalog, data["case_id"]) is None


def test_an_upload_may_not_bring_its_own_reviews(catalog: Catalog, home: Path) -> None:
    data = json.loads((EXAMPLE / "case.json").read_text(encoding="utf-8"))  # the example carries 3 approvals
    with pytest.raises(UploadRefused) as info:
        upload_case(catalog, home, files_of(data), account=HANDLER, now=NOW)
    assert [p.path for p in info.value.problems] == ["$.reviews"]


def test_missing_signature_blocks_submission_until_a_fixed_file_replaces_it(catalog: Catalog, home: Path) -> None:
    row = upload_case(catalog, home, files_of(example_data(signatures=1)), account=HANDLER, now=NOW)
    review = quality_review(load_ws(home, row.case_id))
    blocking = [(g.clause, f.path) for g in review.groups for f in g.findings if f.blocking]
    assert ("9.2", "$.report.signatures") in blocking
    with pytest.raises(WorkspaceRefused) as info:
        submit_case(catalog, home, row.case_id, account=HANDLER, now=NOW)
    assert any("$.report.signatures" in r for r in info.value.reasons)
    # another handler account may not replace it; the uploader may
    with pytest.raises(WorkspaceRefused):
        upload_case(catalog, home, files_of(example_data()), account=OTHER_HANDLER, now=NOW)
    upload_case(catalog, home, files_of(example_data()), account=HANDLER, now=NOW)
    assert quality_review(load_ws(home, row.case_id)).blocking == 0
    submitted = submit_case(catalog, home, row.case_id, account=HANDLER, now=NOW)
    assert (submitted.status, submitted.next_level) == ("in_review", "proofread")
    # an in-review case cannot be replaced
    with pytest.raises(WorkspaceRefused):
        upload_case(catalog, home, files_of(example_data()), account=HANDLER, now=NOW)


def _submitted(catalog: Catalog, home: Path, handler: Acct = HANDLER) -> str:
    row = upload_case(catalog, home, files_of(example_data()), account=handler, now=NOW)
    submit_case(catalog, home, row.case_id, account=handler, now=NOW)
    return row.case_id


def test_9_3_review_rules_are_checked_on_accounts(catalog: Catalog, home: Path) -> None:
    settings = load_settings(home)
    case_id = _submitted(catalog, home, HANDLER_REVIEWER)
    # the uploading account may not review its own case, whatever roles it holds
    with pytest.raises(WorkspaceRefused) as info:
        review_case(catalog, home, case_id, account=HANDLER_REVIEWER, level="proofread", decision="approve",
                    comment=None, now=NOW, settings=settings)
    assert any("上传了本案" in r for r in info.value.reasons)
    # a handler of the case by name (王志强 in $.handlers) is refused by the CLI's rule too
    named = Acct(9, "wzq", "王志强", frozenset({"proofreader"}))
    with pytest.raises(WorkspaceRefused) as info:
        review_case(catalog, home, case_id, account=named, level="proofread", decision="approve",
                    comment=None, now=NOW, settings=settings)
    assert any("承办人员" in r for r in info.value.reasons)
    review_case(catalog, home, case_id, account=PROOF, level="proofread", decision="approve", comment="数字已核",
                now="2026-01-05T10:00:00+08:00", settings=settings)
    assert get_case(catalog, case_id).next_level == "recheck"  # type: ignore[union-attr]
    # one account, two levels: refused although it holds the rechecker role
    with pytest.raises(WorkspaceRefused) as info:
        review_case(catalog, home, case_id, account=PROOF, level="recheck", decision="approve", comment=None,
                    now="2026-01-05T11:00:00+08:00", settings=settings)
    assert any("两级审核" in r for r in info.value.reasons)
    # a return needs a comment; with one, the case goes back to its handler
    with pytest.raises(WorkspaceRefused):
        review_case(catalog, home, case_id, account=RECHECK, level="recheck", decision="return", comment=" ",
                    now="2026-01-05T11:00:00+08:00", settings=settings)
    row = review_case(catalog, home, case_id, account=RECHECK, level="recheck", decision="return",
                      comment="损失清单缺单价依据", now="2026-01-05T11:00:00+08:00", settings=settings)
    assert (row.status, row.next_level) == ("returned", None)
    recorded = json.loads(case_file(home, case_id).read_text(encoding="utf-8"))["reviews"]
    assert [(r["level"], r["reviewer"], r["decision"]) for r in recorded] == [
        ("proofread", "赵丽", "approve"), ("recheck", "孙立军", "return")]
    assert [(c.account, c.level, c.decision, c.comment) for c in comments(catalog, case_id)] == [
        ("zhao", "proofread", "approve", "数字已核"), ("sun", "recheck", "return", "损失清单缺单价依据")]
    # the handler re-uploads without the reviews: the recorded ones are kept; resubmitted, the round starts again
    upload_case(catalog, home, files_of(example_data()), account=HANDLER_REVIEWER, now=NOW)
    assert len(json.loads(case_file(home, case_id).read_text(encoding="utf-8"))["reviews"]) == 2
    row = submit_case(catalog, home, case_id, account=HANDLER_REVIEWER, now=NOW)
    assert (row.status, row.next_level) == ("in_review", "proofread")
    # The return closed the round: zhao's 校对 of it is history, so in the new round (liu proofreads) zhao,
    # who also holds the rechecker role, may take 复核; within the round one account still takes one level.
    review_case(catalog, home, case_id, account=LIU, level="proofread", decision="approve", comment=None,
                now="2026-01-06T09:00:00+08:00", settings=settings)
    with pytest.raises(WorkspaceRefused) as info:
        review_case(catalog, home, case_id, account=LIU, level="recheck", decision="approve", comment=None,
                    now="2026-01-06T10:00:00+08:00", settings=settings)
    assert any("两级审核" in r for r in info.value.reasons)
    row = review_case(catalog, home, case_id, account=PROOF, level="recheck", decision="approve", comment=None,
                      now="2026-01-06T10:00:00+08:00", settings=settings)
    assert row.next_level == "approve"


def test_list_filters_search_and_pages(catalog: Catalog, home: Path) -> None:
    with catalog.write():
        for i in range(120):
            put_case(catalog, case_id=f"C{i:04d}", kind="forensic_appraisal" if i % 4 == 0 else "car_survey",
                     status=("draft", "in_review", "returned")[i % 3], handler="wang" if i < 60 else "chen",
                     handler_person="王志强" if i < 60 else "陈晓梅", case_name=f"案件{i}",
                     project="雅康高速边坡" if i % 10 == 0 else "某隧道", insured=f"被保险人{i}", report_number=f"R{i}",
                     next_level=None, at=f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}+08:00")
    page = list_cases(catalog, page=3, page_size=50)
    assert (page.total, page.pages, len(page.rows)) == (120, 3, 20)
    assert page.rows[0].case_id == "C0019"  # newest change first: C0119 … C0020 on pages 1–2
    assert list_cases(catalog, status="returned").total == 40  # i % 3 == 2
    assert list_cases(catalog, kind="forensic_appraisal").total == 30
    assert list_cases(catalog, handler="陈晓梅").total == 60
    assert {r.case_id for r in list_cases(catalog, text="边坡").rows} == {f"C{i:04d}" for i in range(0, 120, 10)}
    assert list_cases(catalog, text="c0007").rows[0].case_id == "C0007"  # case ids search case-insensitively
    assert list_cases(catalog, text="100%").total == 0  # LIKE wildcards are literal
    assert status_counts(catalog) == {"draft": 40, "in_review": 40, "returned": 40}


def test_issue_without_a_configured_signer_is_refused_with_the_reason(catalog: Catalog, home: Path) -> None:
    """No [signing] in gongu.toml: issue_case refuses (nothing rendered, nothing recorded), the case stays
    in review, and the reason says so — as `gongu issue` does without --unsealed."""
    from gongu.pipeline.workspace import issue_and_archive

    settings = load_settings(home)
    case_id = _submitted(catalog, home)
    approver = Acct(6, "liu", "刘建国", frozenset({"approver"}))
    for n, (who, level) in enumerate(((PROOF, "proofread"), (RECHECK, "recheck"), (approver, "approve"))):
        review_case(catalog, home, case_id, account=who, level=level, decision="approve", comment=None,
                    now=f"2026-01-05T1{n}:00:00+08:00", settings=settings)
    assert get_case(catalog, case_id).next_level is None  # type: ignore[union-attr]
    confirm_signature(catalog, home, case_id, account=OTHER_HANDLER, now=NOW)  # 陈晓梅 signs too
    with pytest.raises(WorkspaceRefused):  # only the approver role issues
        issue_and_archive(catalog, home, case_id, account=RECHECK, now=NOW, settings=settings)
    with pytest.raises(WorkspaceRefused) as info:
        issue_and_archive(catalog, home, case_id, account=approver, now=NOW, settings=settings)
    assert any("未配置签章" in r for r in info.value.reasons)
    assert get_case(catalog, case_id).status == "in_review"  # type: ignore[union-attr]
    assert "issuances" not in json.loads(case_file(home, case_id).read_text(encoding="utf-8"))
    assert not (home / "issued").exists()


def test_a_forensic_case_is_uploaded_by_an_appraiser(catalog: Catalog, home: Path) -> None:
    folder = EXAMPLE.parent / "forensic-single-no-disability"
    data = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    data.pop("reviews")
    data.pop("issuances", None)
    files = [("case.json", io.BytesIO(json.dumps(data, ensure_ascii=False).encode()))]
    files += [(str(p.relative_to(folder)), io.BytesIO(p.read_bytes())) for p in sorted(folder.rglob("*"))
              if p.is_file() and p.name != "case.json"]
    with pytest.raises(WorkspaceRefused):  # a forensic case is the appraisers' (鉴定人), not a handler's
        upload_case(catalog, home, files, account=HANDLER, now=NOW)
    for _name, fh in files:
        fh.seek(0)
    appraiser = Acct(7, "li", "李建国", frozenset({"appraiser"}))  # an appraiser of the case
    row = upload_case(catalog, home, files, account=appraiser, now=NOW)
    insured = [p["name"] for p in data["parties"] if p["role"] == "insured"]
    assert (row.kind, row.insured, row.project) == ("forensic_appraisal", "、".join(insured), "")
    assert list_cases(catalog, kind="forensic_appraisal").total == 1
    assert quality_review(load_ws(home, row.case_id)).groups  # the forensic rules ran (at least the review rule)


def test_each_kind_has_its_own_recheck_role(catalog: Catalog, home: Path) -> None:
    """A survey report's 复核 is the rechecker's (9.3), a forensic appraisal's the 鉴定复核 reviewer's (通则 Art
    35): neither role decides the other kind's level, and each queue lists only the kinds it decides."""
    from dataclasses import replace

    from generator.review import level_titles
    from gongu.pipeline.workspace import account_review_problems, kinds_reviewed

    settings = load_settings(home)
    forensic_reviewer = Acct(7, "huang", "黄敏", frozenset({"reviewer"}))
    case_id = _submitted(catalog, home)
    review_case(catalog, home, case_id, account=PROOF, level="proofread", decision="approve", comment=None,
                now="2026-01-05T10:00:00+08:00", settings=settings)
    with pytest.raises(WorkspaceRefused) as info:
        review_case(catalog, home, case_id, account=forensic_reviewer, level="recheck", decision="approve",
                    comment=None, now="2026-01-05T11:00:00+08:00", settings=settings)
    assert any("没有" in r and "角色" in r for r in info.value.reasons)
    row = get_case(catalog, case_id)
    assert row is not None
    forensic = replace(row, kind="forensic_appraisal")
    titles = level_titles("forensic_appraisal")
    assert account_review_problems(catalog, forensic, forensic_reviewer, "recheck", titles) == []
    assert any("角色" in r for r in account_review_problems(catalog, forensic, RECHECK, "recheck", titles))
    assert kinds_reviewed(forensic_reviewer.roles, "recheck") == ["forensic_appraisal"]
    assert kinds_reviewed(RECHECK.roles, "recheck") == ["car_survey"]
    assert kinds_reviewed(frozenset({"rechecker", "reviewer"}), "recheck") == ["car_survey", "forensic_appraisal"]
    assert kinds_reviewed(forensic_reviewer.roles, "proofread") == []
    # the survey case goes on with its own rechecker
    review_case(catalog, home, case_id, account=RECHECK, level="recheck", decision="approve", comment=None,
                now="2026-01-05T11:00:00+08:00", settings=settings)
    assert get_case(catalog, case_id).next_level == "approve"  # type: ignore[union-attr]
