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
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Protocol

from archive.accounts import REVIEW_LEVELS, kinds_reviewed, level_roles  # noqa: F401 — the queues' names
from archive.catalog import Catalog
from archive.workspace import (
    WorkspaceCase,
    add_comment,
    comments,
    get_case,
    put_case,
    set_status,
)
from generator.casefile import read_case_data, write_case_data
from generator.kinds import Case, is_forensic
from generator.loading import CaseFileError, LoadedCase, load_case
from generator.model import ReviewDecision, ReviewLevel
from generator.problems import Problem
from generator.review import LEVELS, level_titles, review_state
from generator.rules import Finding, run_rules
from generator.rules.registry import SEVERITY_TITLES, clause_key
from gongu.settings import Settings

WORKSPACE = "workspace"
PREVIEWS = "workspace-previews"
PREVIEW_MARK = "审核预览 — 非正式报告"
# Upload limits: a case file is at most 4 MiB anyway (generator/limits.py); photos and scans are big.
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_FILES = 500
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_CHUNK = 1 << 20


class Actor(Protocol):
    """The logged-in account (gongu.web.access.Account)."""

    id: int
    username: str
    person: str
    roles: frozenset[str]


class UploadRefused(Exception):
    """The upload was not stored; `problems` are the loader's problems (JSON path, Chinese title, what is
    wrong, value), or the same shape for a file name or size."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s)")


class WorkspaceRefused(Exception):
    """A workspace action was refused; `reasons` lists every cause in plain Chinese."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(reasons))


def workspace_root(home: Path) -> Path:
    return home / WORKSPACE


def case_folder(home: Path, case_id: str) -> Path:
    if not _SAFE_ID.match(case_id):
        raise WorkspaceRefused([f"案件编号不能用作文件夹名：{case_id!r}"])
    return workspace_root(home) / case_id


def case_file(home: Path, case_id: str) -> Path:
    return case_folder(home, case_id) / "case.json"


# ───────────────────────────── upload ─────────────────────────────

def _file_problem(name: str, message: str, value: Any = None) -> Problem:
    return Problem(name, "上传的文件", message, value)


def clean_name(raw: str) -> str:
    """An uploaded file's relative name, or ValueError: '/'-separated, no absolute path, drive, '..',
    empty or hidden component, control character; Unicode NFC."""
    name = unicodedata.normalize("NFC", raw.replace("\\", "/"))
    if not name or any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        raise ValueError("文件名为空或含控制字符")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise ValueError("不能使用绝对路径")
    parts = PurePosixPath(name).parts
    if any(p in ("", ".", "..") or p.startswith(".") for p in parts) or ".." in name.split("/"):
        raise ValueError("文件名不能包含 ..、. 开头的部分或空的部分（不得写到案件文件夹之外）")
    if len(name) > 255:
        raise ValueError("文件名过长")
    return "/".join(parts)


def _placed_names(names: list[str]) -> dict[str, str]:
    """Uploaded name → name inside the case folder. A folder upload ("slope-collapse/case.json",
    "slope-collapse/photos/P01.jpg") loses its top folder; everything else keeps its relative name."""
    if "case.json" not in names:
        tops = {n.split("/", 1)[0] for n in names}
        if len(tops) == 1 and f"{next(iter(tops))}/case.json" in names:
            return {n: n.split("/", 1)[1] for n in names}
    return {n: n for n in names}


def _stage(home: Path, files: list[tuple[str, BinaryIO]]) -> tuple[Path, list[str]]:
    """Write the upload into a fresh staging folder; (folder, placed names). UploadRefused on a bad name,
    size or count (nothing left behind)."""
    problems: list[Problem] = []
    if not files:
        raise UploadRefused([_file_problem("case.json", "没有上传文件：须上传 case.json 及其照片、附件")])
    if len(files) > MAX_FILES:
        raise UploadRefused([_file_problem("（全部）", f"一次最多上传 {MAX_FILES} 个文件", len(files))])
    names: list[str] = []
    for raw, _fh in files:
        try:
            names.append(clean_name(raw))
        except ValueError as exc:
            problems.append(_file_problem(raw, str(exc), raw))
    if problems:
        raise UploadRefused(problems)
    placed = _placed_names(names)
    if "case.json" not in placed.values():
        raise UploadRefused([_file_problem("case.json", "上传中没有 case.json（案件文件须在最上层）", sorted(names)[:5])])
    if len(set(placed.values())) != len(placed) or len(names) != len(set(names)):
        raise UploadRefused([_file_problem("（全部）", "同一个文件名上传了两次")])
    root = workspace_root(home)
    root.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".upload-", dir=root))
    total = 0
    try:
        for (raw, fh), name in zip(files, names, strict=True):
            target = stage / placed[name]
            target.parent.mkdir(parents=True, exist_ok=True)
            size = 0
            with open(target, "wb") as out:
                while block := fh.read(_CHUNK):
                    size += len(block)
                    total += len(block)
                    if size > MAX_FILE_BYTES:
                        raise UploadRefused([_file_problem(raw, f"文件超过 {MAX_FILE_BYTES // (1 << 20)} MiB", size)])
                    if total > MAX_TOTAL_BYTES:
                        raise UploadRefused([_file_problem("（全部）", f"上传总量超过 {MAX_TOTAL_BYTES // (1 << 20)} MiB")])
                    out.write(block)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return stage, sorted(placed.values())


def _summary(case: Case) -> dict[str, str]:
    """The columns the case list shows and searches (copied from case.json, so the list reads no file)."""
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


def upload_case(catalog: Catalog, home: Path, files: list[tuple[str, BinaryIO]], *, account: Actor,
                now: str) -> WorkspaceCase:
    """Store an uploaded case (new, or replacing a draft or returned one of the same handler account).

    Raises UploadRefused with the loader's problems (JSON path, Chinese title, what is wrong, value) or
    WorkspaceRefused when the case may not be stored by this account; nothing is written then."""
    stage, _placed = _stage(home, files)
    try:
        try:
            loaded = load_case(stage / "case.json")
        except CaseFileError as exc:
            raise UploadRefused(exc.problems) from None
        case = loaded.case
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
        _not_held(catalog, case.case_id)  # a frozen case's copy stays as it is, whatever else is wrong
        if taken := _number_problems(catalog, home, loaded):
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
        summary = _summary(loaded.case)
        folder = case_folder(home, case.case_id)
        with catalog.write():
            put_case(catalog, case_id=case.case_id, kind=case.kind,
                     status=existing.status if existing is not None else "draft",
                     handler=account.username, handler_person=account.person, next_level=None, at=now,
                     people=people_named(loaded.case), **summary)
            _swap_in(stage, folder)
        stored = get_case(catalog, case.case_id)
        assert stored is not None
        return stored
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
        if person == row.handler_person:
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

    row = _require(catalog, case_id)
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
    if account.username == row.handler:
        reasons.append(f"账户 {account.username} 上传了本案，其署名已由上传确认")
    if reasons:
        raise WorkspaceRefused(reasons)
    with catalog.write():
        confirm(catalog, case_id=case_id, person=account.person, account=account.username,
                content_sha256=content_digest(read_case_data(loaded)), at=now)
    return _require(catalog, case_id)


def _number_problems(catalog: Catalog, home: Path, loaded: LoadedCase) -> list[str]:
    """gongu.pipeline.report_numbers for this case: is its report number already another report's?"""
    from generator.render import report_file_stem
    from generator.render_safety import RenderError
    from gongu.pipeline.report_numbers import number_problems

    try:
        stem: str | None = report_file_stem(loaded)
    except RenderError:
        stem = None  # a number unusable as a file name: the renderer says so at issue
    return number_problems(catalog, home, loaded.case.case_id, loaded.case.report.number, stem=stem)


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


def _swap_in(stage: Path, folder: Path) -> None:
    """Put the staged folder in place of the case folder (the old one removed only once the new one is in)."""
    old = None
    if folder.exists():
        old = folder.with_name(f".replaced-{folder.name}-{hashlib.sha256(str(stage).encode()).hexdigest()[:8]}")
        folder.rename(old)
    try:
        stage.rename(folder)
    except BaseException:
        if old is not None:
            old.rename(folder)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


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
    return missing[0].value if missing else None


def submit_case(catalog: Catalog, home: Path, case_id: str, *, account: Actor, now: str) -> WorkspaceCase:
    """Submit a draft or returned case for review: only its handler account, and only when nothing blocks
    at the review stage (what `gongu check --stage review` reports)."""
    row = _require(catalog, case_id)
    _not_held(catalog, case_id)
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
    blocking += [f"{r}（$.report.number）" for r in _number_problems(catalog, home, loaded)]
    if blocking:
        raise WorkspaceRefused(["有阻止提交的问题，请修改案件文件后重新上传：", *blocking])
    with catalog.write():
        set_status(catalog, case_id, "in_review", next_level=_next_level(loaded.case) or "approve", at=now)
    return _require(catalog, case_id)


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
                comment: str | None, now: str, settings: Settings) -> WorkspaceCase:
    """Record one level's decision in case.json exactly as `gongu review` does (gongu.pipeline.reviewing), after the
    account rules; a return sends the case back to its handler with the comment."""
    from gongu.output import GonguError
    from gongu.pipeline.reviewing import ReviewRefused, record_review

    row = _require(catalog, case_id)
    if level not in REVIEW_LEVELS or decision not in ("approve", "return"):
        raise WorkspaceRefused([f"审核级别或决定无效：{level!r} {decision!r}"])
    if row.status != "in_review":
        raise WorkspaceRefused([f"案件状态为「{row.status_title}」，不在审核中"])
    _not_held(catalog, case_id)
    loaded = load(home, case_id)
    titles = level_titles(loaded.case)
    reasons = account_review_problems(catalog, row, account, level, titles)
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
    return _require(catalog, case_id)


def _require(catalog: Catalog, case_id: str) -> WorkspaceCase:
    row = get_case(catalog, case_id)
    if row is None:
        raise WorkspaceRefused([f"工作台中没有案件 {case_id}"])
    return row


def _not_held(catalog: Catalog, case_id: str) -> None:
    """A legal hold freezes every copy of the case, the workspace's included: no replacement, submission,
    review or issue while it stands (the archive's holds table, archive/holds.py)."""
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
    _not_held(catalog, case_id)
    _ready_to_issue(_require(catalog, case_id))
    # One issuance of a case at a time (web workers, offices): the status is judged again under the lock,
    # since a request that waited may find the case issued by the one before it.
    token, held = take_lock(catalog, case_id, account=account.username, now=datetime.fromisoformat(now))
    if token is None:
        assert held is not None
        raise IssueInProgress(held.account, held.started_at)
    try:
        row = _ready_to_issue(_require(catalog, case_id))
        try:
            loaded = load(home, case_id)
        except CaseFileError as exc:
            raise WorkspaceRefused([f"{p.path} {p.title}：{p.message}" for p in exc.problems]) from None
        if reasons := unconfirmed_signers(catalog, row, loaded) + _number_problems(catalog, home, loaded):
            raise WorkspaceRefused(reasons)
        try:
            signer = configured_signer(settings)
            result = issue_case(loaded, signer=signer, settings=settings, **stepped_renderers(progress))
        except IssueRefused as exc:
            raise WorkspaceRefused(exc.reasons) from None
        except (RenderError, IssueFileExists, SealError, GonguError, CaseFileError, OSError) as exc:
            raise WorkspaceRefused([f"出具失败：{exc}"]) from None
        with catalog.write():
            set_status(catalog, case_id, "issued", next_level=None, at=now)
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


def _ready_to_issue(row: WorkspaceCase) -> WorkspaceCase:
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

    row = _require(catalog, case_id)
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
    return []


# ───────────────────────────── the report shown on the page ─────────────────────────────

def report_files(home: Path, loaded: LoadedCase, templates: Path | None = None) -> dict[str, Path]:
    """The issued report when there is one; otherwise a preview rendered with the same renderer, marked
    「审核预览 — 非正式报告」 on every page and kept per case-file hash (rendered once per version)."""
    issued = issued_files(home, loaded)
    if "pdf" in issued:
        return issued
    from generator.render import render_report

    digest = hashlib.sha256(loaded.raw).hexdigest()[:16]
    folder = home / PREVIEWS / loaded.case.case_id / digest
    if not (folder / "done").is_file():
        work = Path(tempfile.mkdtemp(prefix=".render-", dir=_ensure(home / PREVIEWS)))
        try:
            result = render_report(loaded, work, formats=("pdf", "docx"), templates=templates, mark=PREVIEW_MARK)
            assert result.pdf is not None and result.docx is not None
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            shutil.copyfile(result.pdf, folder / "report.pdf")
            shutil.copyfile(result.docx, folder / "report.docx")
            (folder / "done").write_text(digest, encoding="utf-8")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return {"pdf": folder / "report.pdf", "docx": folder / "report.docx"}


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
