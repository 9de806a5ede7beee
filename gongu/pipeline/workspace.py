"""The web workspace's cases in progress: upload, submit, the three-level review, issue and
seal, archive — each step the same code the command line runs (load_case, run_rules, record_review,
issue_case, ingest), plus the status row in the catalog (archive/workspace.py).

Case folders live in GONGU_HOME/workspace/<case_id>/ (case.json and the photos and attachments it names,
as the CLI expects them). An upload is written to a staging folder, validated, and only then put in
place, so an invalid upload leaves nothing behind. The review rules are checked on accounts as well
as on names: a reviewer is never the account that uploaded the case (nor one of its handlers by name)
and never the reviewer of another level (9.3; regulations.md "three-level review")."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from archive.accounts import REVIEW_LEVELS, kinds_reviewed, level_roles  # noqa: F401 — the queues' names
from archive.catalog import Catalog
from archive.workspace import (
    WorkspaceCase,
    add_comment,
    bump_version,
    comments,
    get_case,
    put_case,
    set_status,
)
from archive.workspace_assign import assignments, handed_over
from generator.casefile import read_case_data, write_case_data
from generator.kinds import Case, is_forensic
from generator.loading import CaseFileError, LoadedCase, load_case
from generator.model import ReviewDecision, ReviewLevel
from generator.problems import Problem
from generator.review import LEVELS, level_titles, review_state
from generator.rules import Finding, run_rules
from generator.rules.registry import SEVERITY_TITLES, clause_key
from gongu.pipeline.queue import refresh_due
from gongu.pipeline.upload_staging import (  # noqa: F401 — the upload limits and refusal, as pages name them
    MAX_FILE_BYTES,
    MAX_FILES,
    MAX_TOTAL_BYTES,
    Placement,
    UploadRefused,
    match_by_name,
    stage_upload,
    swap_in,
)
from gongu.settings import Settings

WORKSPACE = "workspace"
PREVIEWS = "workspace-previews"
PREVIEW_MARK = "审核预览 — 非正式报告"
DRAFT_MARK = "草稿 — 非正式报告"
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class Actor(Protocol):
    """The logged-in account (gongu.web.access.Account)."""

    id: int
    username: str
    person: str
    roles: frozenset[str]


class WorkspaceRefused(Exception):
    """A workspace action was refused; `reasons` lists every cause in plain Chinese."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(reasons))


CONFLICT = "案件已被他人更新，请刷新后重试"


class CaseConflict(WorkspaceRefused):
    """The case changed since the page the action came from (its version): another person acted first."""

    def __init__(self, conflict: Exception) -> None:
        super().__init__([f"{CONFLICT}（{conflict}）"])


def workspace_root(home: Path) -> Path:
    return home / WORKSPACE


def case_folder(home: Path, case_id: str) -> Path:
    if not _SAFE_ID.match(case_id):
        raise WorkspaceRefused([f"案件编号不能用作文件夹名：{case_id!r}"])
    return workspace_root(home) / case_id


def case_file(home: Path, case_id: str) -> Path:
    return case_folder(home, case_id) / "case.json"


def case_summary(case: Case) -> dict[str, str]:
    """The columns the case list shows and searches (copied from case.json, so the list reads no file):
    what an upload stores with the case's row, and what a test putting a row by hand stores."""
    if is_forensic(case):
        from generator.forensic.model import PartyRole

        insured = "、".join(p.name for p in case.parties if p.role == PartyRole.insured)  # type: ignore[union-attr]
        project = ""
    else:
        insured, project = case.policy.insured, case.project.name  # type: ignore[union-attr]
    return {"case_name": case.case_name, "project": project, "insured": insured,
            "report_number": case.report.number}


def people_named(case: Case) -> list[str]:
    """The registered names the case file puts on the case: its appraisers, or its handlers (survey)."""
    if is_forensic(case):
        return list(case.appraiser_names)  # type: ignore[union-attr]
    return [h.name for h in case.handlers]  # type: ignore[union-attr]


@dataclass(frozen=True)
class Received:
    """A stored upload: the case row, and the files placed by base name or not named by the case."""

    case: WorkspaceCase
    placement: Placement


def upload_case(catalog: Catalog, home: Path, files: list[tuple[str, BinaryIO]], *, account: Actor,
                now: str) -> WorkspaceCase:
    """Store an uploaded case (new, or replacing a draft or returned one of the same handler account).

    Raises UploadRefused with the loader's problems (JSON path, Chinese title, what is wrong, value) or
    WorkspaceRefused when the case may not be stored by this account; nothing is written then."""
    return receive_upload(catalog, home, files, account=account, now=now).case


def receive_upload(catalog: Catalog, home: Path, files: list[tuple[str, BinaryIO]], *, account: Actor,
                   now: str) -> Received:
    """`upload_case`, saying which files were placed by base name and which the case does not name."""
    stage, placed = stage_upload(workspace_root(home), files)
    try:
        try:
            loaded = load_case(stage / "case.json")
        except CaseFileError as exc:
            raise UploadRefused(exc.problems) from None
        case = loaded.case
        # Files chosen one by one come under base names; the case says where each belongs.
        placement = match_by_name(stage, placed, case)
        forensic = is_forensic(case)
        need = "appraiser" if forensic else "handler"
        if need not in account.roles:
            raise WorkspaceRefused([f"{'司法鉴定案件由鉴定人' if forensic else '公估案件由承办人员'}上传"
                                    f"（须有「{'鉴定人' if forensic else '承办'}」角色）"])
        if not _SAFE_ID.match(case.case_id):
            raise UploadRefused([Problem("$.case_id", "案件编号", "只能由字母、数字和 . _ - 组成（用作文件夹名）",
                                         case.case_id)])
        if refusal := _not_a_signer(case, account):
            raise WorkspaceRefused([refusal])
        not_held(catalog, case.case_id)  # a frozen case's copy stays as it is, whatever else is wrong
        if taken := report_number_problems(catalog, home, loaded):
            raise UploadRefused([Problem("$.report.number", "报告编号", r, case.report.number) for r in taken])
        existing = get_case(catalog, case.case_id)
        data = read_case_data(loaded)
        carried = _carry_over(home, existing, data, account)
        if carried is not None:
            data["reviews"], data["issuances"] = carried
            if not data["issuances"]:
                del data["issuances"]
            if not data["reviews"]:
                del data["reviews"]
            loaded = write_case_data(stage / "case.json", data)
        # A photo the case names but the upload lacks is a blocking QC finding (5.3.1 d) on the case page,
        # as in `gongu check`, not an upload error: the handler sees it with its clause.
        summary = case_summary(loaded.case)
        folder = case_folder(home, case.case_id)
        with catalog.write():
            put_case(catalog, case_id=case.case_id, kind=case.kind,
                     status=existing.status if existing is not None else "draft",
                     handler=account.username, handler_person=account.person, next_level=None, at=now,
                     people=people_named(loaded.case), **summary)
            swap_in(stage, folder)
            refresh_due(catalog, home, case.case_id, datetime.fromisoformat(now))
        stored = get_case(catalog, case.case_id)
        assert stored is not None
        return Received(stored, placement)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def case_signers(case: Case) -> list[str]:
    """The people whose signatures the case's documents carry: a survey report's handlers (4.3), a forensic
    case's appraisers (通则 Art 19). Each signs only for a step taken under their own account."""
    if is_forensic(case):
        return [a.name for a in case.appraisers]  # type: ignore[union-attr]
    return [h.name for h in case.handlers]  # type: ignore[union-attr]


def signer_title(case: Case) -> str:
    return "鉴定人" if is_forensic(case) else "承办人员"


def _not_a_signer(case: Case, account: Actor) -> str | None:
    """Why `account` may not put this case forward: its person is not one of the case's signers."""
    signers = case_signers(case)
    if account.person in signers:
        return None
    return (f"账户 {account.username}（{account.person}）不是本案的{signer_title(case)}（{'、'.join(signers) or '未载明'}）："
            f"只能上传、确认本人署名的案件——报告上的签名只属于用本人账户办理的人")


def content_digest(data: dict[str, Any]) -> str:
    """The SHA-256 of what a signer confirms: the case file without the records the workspace adds to it
    (reviews, issuances), so a review does not undo a confirmation but any change of content does."""
    body = {k: v for k, v in data.items() if k not in ("reviews", "issuances")}
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                                     default=str).encode("utf-8")).hexdigest()


def unconfirmed_people(catalog: Catalog, row: WorkspaceCase, loaded: LoadedCase) -> dict[str, bool]:
    """Every signer of the case other than the uploading account's person who has not confirmed, under their
    own account, the case as it is now (「确认署名」): person → whether they confirmed an earlier content."""
    from archive.workspace_steps import confirmations

    digest = content_digest(read_case_data(loaded))
    done = confirmations(catalog, row.case_id)
    out = {}
    for person in case_signers(loaded.case):
        if person == row.handler_person and not handed_over(catalog, row.case_id):
            continue  # the uploading account's own step (it was checked to be a signer at upload)
        found = done.get(person)
        if found is None or found.content_sha256 != digest:
            out[person] = found is not None
    return out


def unconfirmed_signers(catalog: Catalog, row: WorkspaceCase, loaded: LoadedCase) -> list[str]:
    """`unconfirmed_people` as reasons to refuse the issue, each naming the person."""
    title = signer_title(loaded.case)
    return [f"{title}「{person}」确认署名后案件内容已改动，须用本人账户重新确认署名" if earlier else
            f"{title}「{person}」尚未用本人账户确认署名（案件页「确认署名」），不能以其名义签名"
            for person, earlier in unconfirmed_people(catalog, row, loaded).items()]


def confirm_signature(catalog: Catalog, home: Path, case_id: str, *, account: Actor, now: str) -> WorkspaceCase:
    """「确认署名」: a signer named on the case (not the uploading account) confirms, under their own account,
    that they sign the case as it is now; recorded in the catalog with the content's digest."""
    from archive.workspace_steps import confirm

    row = case_row(catalog, case_id)
    if row.status in ("issued", "archived"):
        raise WorkspaceRefused([f"案件状态为「{row.status_title}」，已不能确认署名"])
    try:
        loaded = load(home, case_id)
    except CaseFileError as exc:
        raise WorkspaceRefused([f"{p.path} {p.title}：{p.message}" for p in exc.problems]) from None
    need = "appraiser" if is_forensic(loaded.case) else "handler"
    reasons = [refusal] if (refusal := _not_a_signer(loaded.case, account)) else []
    if need not in account.roles:
        reasons.append(f"确认署名须有「{'鉴定人' if need == 'appraiser' else '承办'}」角色")
    if account.username == row.handler and not handed_over(catalog, case_id):
        reasons.append(f"账户 {account.username} 上传了本案，其署名已由上传确认")
    if reasons:
        raise WorkspaceRefused(reasons)
    with catalog.write():
        confirm(catalog, case_id=case_id, person=account.person, account=account.username,
                content_sha256=content_digest(read_case_data(loaded)), at=now)
        bump_version(catalog, case_id, at=now)
    return case_row(catalog, case_id)


def report_number_problems(catalog: Catalog, home: Path, loaded: LoadedCase) -> list[str]:
    """gongu.pipeline.report_numbers for this case: is its report number already another report's? Asked at
    upload, submission and issue (and by gongu.pipeline.issue_checks at the click)."""
    from generator.render import report_file_stem
    from generator.render_safety import RenderError
    from gongu.pipeline.report_numbers import number_problems

    if pending_reissue(loaded.case):  # the number it will be issued under is the next R number
        from generator.issuance import reissue_number

        return number_problems(catalog, home, loaded.case.case_id, reissue_number(loaded.case), stem=None)
    try:
        stem: str | None = report_file_stem(loaded)
    except RenderError:
        stem = None  # a number unusable as a file name: the renderer says so at issue
    return number_problems(catalog, home, loaded.case.case_id, loaded.case.report.number, stem=stem)


def pending_reissue(case: Case) -> bool:
    """The case file's report number was issued already: the case was reopened after issue, and its next
    issue is a reissue (R1, R2 …, superseding that report) with the reason recorded when it was reopened."""
    return bool(case.issuances) and case.report.number in {i.number for i in case.issuances}


def _carry_over(home: Path, existing: WorkspaceCase | None, data: dict[str, Any],
                account: Actor) -> tuple[list[Any], list[Any]] | None:
    """Reviews and issuances are recorded by the workspace, never brought in by an upload: a new case
    carries none; a replacement keeps the ones already recorded (the uploaded file may omit them or
    repeat them unchanged)."""
    uploaded = (data.get("reviews") or [], data.get("issuances") or [])
    if existing is None:
        problems = [Problem(f"$.{key}", title, "工作台上传的案件文件不能自带记录：审核须由审核人登录后在工作台记录，"
                            "出具由审核人在工作台完成", f"{len(value)} 条")
                    for key, title, value in (("reviews", "质量审核记录", uploaded[0]),
                                              ("issuances", "报告出具记录", uploaded[1])) if value]
        if problems:
            raise UploadRefused(problems)
        return None
    if existing.status not in ("draft", "returned"):
        raise WorkspaceRefused([f"案件 {existing.case_id} 状态为「{existing.status_title}」，只有草稿或已退回的案件可以替换"])
    if existing.handler != account.username:
        raise WorkspaceRefused([f"案件 {existing.case_id} 由账户 {existing.handler}（{existing.handler_person}）上传，"
                                "只有该账户可以替换"])
    path = case_file(home, existing.case_id)
    stored = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    kept = (stored.get("reviews") or [], stored.get("issuances") or [])
    for key, title, mine, theirs in (("reviews", "质量审核记录", uploaded[0], kept[0]),
                                     ("issuances", "报告出具记录", uploaded[1], kept[1])):
        if mine and mine != theirs:
            raise UploadRefused([Problem(f"$.{key}", title, "与工作台已记录的内容不同：这些记录只能由工作台写入，"
                                         "请删去该项或保留原样", f"{len(mine)} 条")])
    return kept


# ───────────────────────────── reading a case ─────────────────────────────

def load(home: Path, case_id: str) -> LoadedCase:
    return load_case(case_file(home, case_id))


@dataclass(frozen=True)
class ClauseFindings:
    clause: str
    findings: list[Finding]


@dataclass(frozen=True)
class QualityReview:
    groups: list[ClauseFindings]
    blocking: int
    warnings: int
    severity_titles: dict[str, str] = field(default_factory=lambda: dict(SEVERITY_TITLES))


def quality_review(loaded: LoadedCase, stage: str = "review") -> QualityReview:
    """The findings of `gongu check` (same rules, photos decoded), grouped by clause in clause order."""
    findings = run_rules(loaded.case, stage=stage, case_dir=loaded.source.parent)  # type: ignore[arg-type]
    by_clause: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_clause[f.clause].append(f)
    groups = [ClauseFindings(c, by_clause[c]) for c in sorted(by_clause, key=clause_key)]
    blocking = sum(1 for f in findings if f.blocking)
    return QualityReview(groups, blocking, len(findings) - blocking)


# ───────────────────────────── submit and review ─────────────────────────────

def _next_level(case: Case) -> str | None:
    missing = review_state(case).missing
    if pending_reissue(case) and not any(r.at > case.issuances[-1].issued_at for r in case.reviews):
        # a reissue is reviewed anew at every level (9.3): the round before the issue does not carry over
        missing = review_state(case.model_copy(update={"reviews": []})).missing
    return missing[0].value if missing else None


def submit_case(catalog: Catalog, home: Path, case_id: str, *, account: Actor, now: str) -> WorkspaceCase:
    """Submit a draft or returned case for review: only its handler account, and only when nothing blocks
    at the review stage (what `gongu check --stage review` reports)."""
    row = case_row(catalog, case_id)
    not_held(catalog, case_id)
    if row.handler != account.username:
        raise WorkspaceRefused([f"只有上传本案的账户 {row.handler}（{row.handler_person}）可以提交审核"])
    if row.status not in ("draft", "returned"):
        raise WorkspaceRefused([f"案件状态为「{row.status_title}」，只有草稿或已退回的案件可以提交审核"])
    try:
        loaded = load(home, case_id)
    except CaseFileError as exc:
        raise WorkspaceRefused([f"{p.path} {p.title}：{p.message}" for p in exc.problems]) from None
    review = quality_review(loaded, "review")
    blocking = [f"[{g.clause}] {f.message}（{f.path}）" for g in review.groups for f in g.findings if f.blocking]
    blocking += [f"{r}（$.report.number）" for r in report_number_problems(catalog, home, loaded)]
    if blocking:
        raise WorkspaceRefused(["有阻止提交的问题，请修改案件文件后重新上传：", *blocking])
    with catalog.write():
        set_status(catalog, case_id, "in_review", next_level=_next_level(loaded.case) or "approve", at=now)
        refresh_due(catalog, home, case_id, datetime.fromisoformat(now))
    return case_row(catalog, case_id)


def account_review_problems(catalog: Catalog, row: WorkspaceCase, account: Actor, level: str,
                            titles: dict[ReviewLevel, str]) -> list[str]:
    """The review rules on accounts (9.3): never the account that uploaded the case, never an account that
    reviewed this case at another level in the current round (after the latest return: earlier decisions
    are history, as for persons in generator.review), and only with the role of the level."""
    reasons = []
    if not account.roles & level_roles(row.kind, level):
        reasons.append(f"账户 {account.username} 没有{titles[ReviewLevel(level)]}的角色")
    if account.username == row.handler:
        reasons.append(f"账户 {account.username} 上传了本案（承办），不能审核本案")
    history = comments(catalog, row.case_id)
    returns = [i for i, c in enumerate(history) if c.decision == "return"]
    this_round = history[returns[-1] + 1:] if returns else history
    other = sorted({c.level for c in this_round
                    if c.account == account.username and c.level != level}, key=_level_index)
    if other:
        reasons.append(f"账户 {account.username} 已担任本案的{'、'.join(titles[ReviewLevel(lv)] for lv in other)}，"
                       "同一账户不能担任两级审核")
    return reasons


def _level_index(level: str) -> int:
    return [lv.value for lv in LEVELS].index(level)


def review_case(catalog: Catalog, home: Path, case_id: str, *, account: Actor, level: str, decision: str,
                comment: str | None, now: str, settings: Settings,
                expected_version: int | None = None) -> WorkspaceCase:
    """Record one level's decision in case.json exactly as `gongu review` does (gongu.pipeline.reviewing), after the
    account rules; a return sends the case back to its handler with the comment. `expected_version`: the
    case version the deciding page showed (CaseConflict when the case changed since)."""
    from archive.workspace import VersionConflict, check_version

    if level not in REVIEW_LEVELS or decision not in ("approve", "return"):
        raise WorkspaceRefused([f"审核级别或决定无效：{level!r} {decision!r}"])
    # Under the catalog's write lock from the version check to the recorded decision: of two reviewers
    # deciding at once, the second finds the version moved on and is refused before writing anything.
    try:
        with catalog.write():
            check_version(catalog, case_id, expected_version)
            return _review_locked(catalog, home, case_id, account=account, level=level, decision=decision,
                                  comment=comment, now=now, settings=settings)
    except VersionConflict as exc:
        raise CaseConflict(exc) from None


def _review_locked(catalog: Catalog, home: Path, case_id: str, *, account: Actor, level: str, decision: str,
                   comment: str | None, now: str, settings: Settings) -> WorkspaceCase:
    from gongu.output import GonguError
    from gongu.pipeline.reviewing import ReviewRefused, record_review

    row = case_row(catalog, case_id)
    if row.status != "in_review":
        raise WorkspaceRefused([f"案件状态为「{row.status_title}」，不在审核中"])
    not_held(catalog, case_id)
    loaded = load(home, case_id)
    titles = level_titles(loaded.case)
    reasons = account_review_problems(catalog, row, account, level, titles)
    if (held := assignments(catalog, case_id).get(level)) is not None and held.account != account.username:
        reasons.append(f"本案的{titles[ReviewLevel(level)]}已由主管指派给账户 {held.account}（{held.person}）")
    if decision == "return" and not (comment and comment.strip()):
        reasons.append("退回须写明意见，承办人员据此修改")
    if reasons:
        raise WorkspaceRefused(reasons)
    try:
        recorded = record_review(loaded.source, level=ReviewLevel(level), reviewer=account.person,
                                 decision=ReviewDecision(decision), comment=(comment or "").strip() or None,
                                 at=now, settings=settings, loaded=loaded)
    except ReviewRefused as exc:
        raise WorkspaceRefused(exc.reasons) from None
    except GonguError as exc:
        raise WorkspaceRefused([str(exc)]) from None
    with catalog.write():
        add_comment(catalog, case_id=case_id, level=level, decision=decision, account=account.username,
                    person=recorded.review["reviewer"], comment=recorded.review.get("comment"), at=now)
        if decision == "return":
            set_status(catalog, case_id, "returned", next_level=None, at=now)
        else:
            set_status(catalog, case_id, "in_review", next_level=_next_level(recorded.written.case), at=now)
        refresh_due(catalog, home, case_id, datetime.fromisoformat(now))
    return case_row(catalog, case_id)


def case_row(catalog: Catalog, case_id: str) -> WorkspaceCase:
    """The workspace row of the case; WorkspaceRefused when the workspace has no such case (every action
    on a case asks this first, as gongu.pipeline.issue_checks does)."""
    row = get_case(catalog, case_id)
    if row is None:
        raise WorkspaceRefused([f"工作台中没有案件 {case_id}"])
    return row


def not_held(catalog: Catalog, case_id: str) -> None:
    """A legal hold freezes every copy of the case, the workspace's included: no replacement, submission,
    review or issue while it stands (the archive's holds table, archive/holds.py): WorkspaceRefused naming
    each hold. Asked before every change of the case and by gongu.pipeline.issue_checks."""
    holds = catalog.active_holds(case_id)
    if holds:
        raise WorkspaceRefused([f"案件 {case_id} 处于冻结状态（{h['kind']}，文号 {h['reference']}，原因 {h['reason']}），"
                                "工作台中的案件文件不得修改、提交、审核或出具，待冻结解除后再办理" for h in holds])


# ───────────────────────────── issue, seal and archive ─────────────────────────────

@dataclass(frozen=True)
class IssueOutcome:
    number: str
    files: dict[str, Path]
    archived: bool
    archive_reasons: list[str]


def issue_and_archive(catalog: Catalog, home: Path, case_id: str, *, account: Actor, now: str,
                      settings: Settings, progress: Callable[[str], None] | None = None) -> IssueOutcome:
    """`gongu issue` (gongu.pipeline.issuing.issue_case with the server's configured signer; passphrases from the
    server's environment), then the archive step of `gongu archive ingest`. Refused (WorkspaceRefused,
    every reason) when not ready or no signer is configured; a refused archive leaves the case issued.
    `progress` is told each step as it begins (渲染, 签章并记录, 归档): a background job shows it."""
    from archive.workspace_steps import release_lock, take_lock
    from generator.issuance import IssueRefused
    from generator.render import RenderError
    from gongu.output import GonguError
    from gongu.pipeline.issuing import IssueFileExists, issue_case, stepped_renderers
    from gongu.pipeline.sealing import configured_signer
    from signing.seal import SealError

    if "approver" not in account.roles:
        raise WorkspaceRefused(["只有审核（approver）角色可以出具并签章"])
    not_held(catalog, case_id)
    ready_to_issue(case_row(catalog, case_id))
    # One issuance of a case at a time (web workers, offices): the status is judged again under the lock,
    # since a request that waited may find the case issued by the one before it.
    token, held = take_lock(catalog, case_id, account=account.username, now=datetime.fromisoformat(now))
    if token is None:
        assert held is not None
        raise IssueInProgress(held.account, held.started_at)
    try:
        row = ready_to_issue(case_row(catalog, case_id))
        try:
            loaded = load(home, case_id)
        except CaseFileError as exc:
            raise WorkspaceRefused([f"{p.path} {p.title}：{p.message}" for p in exc.problems]) from None
        if reasons := unconfirmed_signers(catalog, row, loaded) + report_number_problems(catalog, home, loaded):
            raise WorkspaceRefused(reasons)
        reason = None
        if pending_reissue(loaded.case):
            reason = loaded.case.report.reissue_reason
            if not reason:
                raise WorkspaceRefused(["重新出具须说明原因（$.report.reissue_reason）"])
        try:
            signer = configured_signer(settings)
            result = issue_case(loaded, signer=signer, settings=settings, reissue_reason=reason,
                                **stepped_renderers(progress))
        except IssueRefused as exc:
            raise WorkspaceRefused(exc.reasons) from None
        except (RenderError, IssueFileExists, SealError, GonguError, CaseFileError, OSError) as exc:
            raise WorkspaceRefused([f"出具失败：{exc}"]) from None
        with catalog.write():
            set_status(catalog, case_id, "issued", next_level=None, at=now)
            refresh_due(catalog, home, case_id, datetime.fromisoformat(now))
        if progress is not None:
            progress("归档")
        reasons = archive_issued(catalog, home, case_id, account=account, now=now, settings=settings,
                                 report=result.files["pdf"])
    finally:
        release_lock(catalog, case_id, token)
    return IssueOutcome(result.number, dict(result.files), not reasons, reasons)


class IssueInProgress(WorkspaceRefused):
    """Another request is issuing this case right now (the catalog's issue lock): answered 「正在出具」."""

    def __init__(self, account: str, started_at: str) -> None:
        self.account = account
        self.started_at = started_at
        super().__init__([f"正在出具：账户 {account} 于 {started_at} 开始出具本案报告，请勿重复提交；"
                          "完成后案件页显示出具结果"])


def ready_to_issue(row: WorkspaceCase) -> WorkspaceCase:
    """The row itself when all three review levels passed (9.3), else WorkspaceRefused saying the status:
    asked by the issue and by the checks made at the click (gongu.pipeline.issue_checks)."""
    if row.status != "in_review" or row.next_level is not None:
        raise WorkspaceRefused([f"案件状态为「{row.status_title}」"
                                + ("，三级审核尚未全部通过" if row.status == "in_review" else "") + "，不能出具"])
    return row


def issued_files(home: Path, loaded: LoadedCase) -> dict[str, Path]:
    """The latest issuance's primary files (as `gongu archive ingest` finds the report)."""
    case = loaded.case
    mine = [i for i in case.issuances if i.number == case.report.number and i.pdf_file]
    if not mine:
        return {}
    folder = home / "issued" / case.case_id
    last = mine[-1]
    out = {"pdf": folder / str(last.pdf_file)}
    if last.docx_file:
        out["docx"] = folder / str(last.docx_file)
    return {k: p for k, p in out.items() if p.is_file()}


def archive_issued(catalog: Catalog, home: Path, case_id: str, *, account: Actor, now: str, settings: Settings,
                   report: Path | None = None) -> list[str]:
    """The archive step of `gongu archive ingest` for an issued case; [] when archived, else the reasons."""
    from archive.catalog import CatalogError
    from archive.ingest import IngestRefused, ingest
    from archive.store import ArchiveError
    from gongu.output import GonguError
    from gongu.pipeline.archiving import build_archive

    row = case_row(catalog, case_id)
    if row.status != "issued":
        return [f"案件状态为「{row.status_title}」，只有已出具的案件可以归档"]
    loaded = load(home, case_id)
    report = report or issued_files(home, loaded).get("pdf")
    try:
        with build_archive(settings) as archive:
            ingest(archive, loaded, report, by=account.username)
    except IngestRefused as exc:
        return list(exc.reasons)
    except (ArchiveError, GonguError, CatalogError, OSError) as exc:
        return [f"归档失败：{exc}"]
    with catalog.write():
        set_status(catalog, case_id, "archived", next_level=None, at=now)
        refresh_due(catalog, home, case_id, datetime.fromisoformat(now))  # no open step is left: no rows
    return []


# ───────────────────────────── the report shown on the page ─────────────────────────────

def report_files(home: Path, loaded: LoadedCase, templates: Path | None = None) -> dict[str, Path]:
    """The issued report when there is one; otherwise a preview rendered with the same renderer, marked
    「审核预览 — 非正式报告」 on every page and kept per case-file hash (rendered once per version)."""
    issued = issued_files(home, loaded)
    if "pdf" in issued:
        return issued
    return preview_files(home, loaded, templates)


def preview_files(home: Path, loaded: LoadedCase, templates: Path | None = None, *, mark: str = PREVIEW_MARK,
                  name: str = "report") -> dict[str, Path]:
    """The report rendered with `mark` on every page, kept per case-file hash and mark (rendered once per
    version): the reviewers' preview, or the handler's draft (DRAFT_MARK)."""
    from generator.render import render_report

    digest = hashlib.sha256(loaded.raw).hexdigest()[:16]
    folder = preview_folder(home, loaded.case.case_id, digest)
    if not (folder / f"{name}.done").is_file():
        work = Path(tempfile.mkdtemp(prefix=".render-", dir=_ensure(home / PREVIEWS)))
        try:
            result = render_report(loaded, work, formats=("pdf", "docx"), templates=templates, mark=mark)
            assert result.pdf is not None and result.docx is not None
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(result.pdf, folder / f"{name}.pdf")
            shutil.copyfile(result.docx, folder / f"{name}.docx")
            (folder / f"{name}.done").write_text(digest, encoding="utf-8")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return {"pdf": folder / f"{name}.pdf", "docx": folder / f"{name}.docx"}


def preview_folder(home: Path, case_id: str, digest: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{16}", digest):
        raise WorkspaceRefused(["预览版本号无效"])
    return home / PREVIEWS / case_folder(home, case_id).name / digest


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
