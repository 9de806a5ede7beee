"""`gongu issue` as one explicit pipeline: decide → render → seal → publish → record (`issue_case`).

The domain decisions (may it be issued, the reissue number) are generator.issuance's; this module only
composes them with rendering, sealing and the file system. The signer is a parameter: nothing registers
itself at import time, so `issue_case` does the same from the CLI, a test or the web workspace.
Without a signer a report is refused, unless the caller asks for an unsealed copy, which is marked as
such on every page and in the case file (issue 12 item 10).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from generator.casefile import atomic_write, dump_case_data, read_case_data, write_case_data
from generator.clock import SYSTEM_CLOCK, Clock
from generator.issuance import IssueRefused, check_issuable, first_issue_problems, issuance_entry, reissued_data
from generator.kinds import Case
from generator.loading import LoadedCase, load_case, validate_data
from generator.model import CarSurveyCase
from generator.qc_sheet import render_qc_sheet
from generator.review import level_titles, review_clause, review_state
from gongu.settings import Settings, load_settings
from gongu.templates import firm_templates

# Printed on every page of a copy issued without the signatures (PDF and DOCX).
UNSEALED_MARK = "未签章副本 — 非正式报告"


class ReportSigner(Protocol):
    """Seals a rendered report PDF into `output` (PAdES: firm seal, then each handler); `case_raw` is
    the case file as JSON, naming the handlers who sign. Raises signing.seal.SealError when it cannot."""

    def seal(self, pdf: Path, output: Path, case_raw: dict[str, Any]) -> Path: ...


# (the case as it goes into the report, scratch folder, templates, mark) → {"pdf": …, "docx": …}
Renderer = Callable[[LoadedCase, Path, Path | None, str | None], dict[str, Path]]


class IssueFileExists(Exception):
    """A report with this number is already on disk: never overwritten (usage error, exit 2)."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        super().__init__("文件已存在，不覆盖已出具的报告：" + "、".join(paths))


@dataclass(frozen=True)
class IssueResult:
    number: str
    supersedes: str | None
    files: dict[str, Path]
    qc_sheet: Path
    case_file: Path
    sealed: bool


def default_out_dir(case: CarSurveyCase, settings: Settings | None = None) -> Path:
    return (settings or load_settings()).home / "issued" / case.case_id


def render_files(loaded: LoadedCase, work_dir: Path, templates: Path | None, mark: str | None) -> dict[str, Path]:
    """The real renderer (WeasyPrint PDF/A-3b + DOCX), imported on use: it takes ~1 s to load."""
    from generator.render import render_report

    result = render_report(loaded, work_dir, formats=("pdf", "docx"), templates=templates, mark=mark)
    assert result.pdf is not None and result.docx is not None
    return {"pdf": Path(result.pdf), "docx": Path(result.docx)}


def unregistered_reviewers(case: Case, settings: Settings) -> list[str]:
    """Every approval counted for this issue whose reviewer is not a registered person (9.3; issue 12
    item 2). `gongu review` refuses such names, but reviews typed into the case file by hand never pass
    through it: without this, "Mallory" or a full-width spelling could approve a report."""
    reasons = []
    titles, clause = level_titles(case), review_clause(case)
    for level, review in review_state(case).approved.items():
        if settings.people.find(review.reviewer) is None:
            index = next(i for i, r in enumerate(case.reviews) if r is review)
            reasons.append(f"[{clause}] {titles[level]}的审核人「{review.reviewer}」不是 gongu.toml 的 "
                           f"people.names 中登记的人员（not a registered person）（$.reviews[{index}]）")
    return reasons


def issue_case(
    case_path: str | Path,
    *,
    signer: ReportSigner | None,
    unsealed: bool = False,
    out_dir: str | Path | None = None,
    reissue_reason: str | None = None,
    templates: Path | None = None,
    settings: Settings | None = None,
    clock: Clock = SYSTEM_CLOCK,
    render: Renderer = render_files,
) -> IssueResult:
    """Issue (or reissue) the report of the case at `case_path`. Raises IssueRefused with every reason.

    `signer` seals the PDF before anything is published; with `signer=None` the report is refused unless
    `unsealed=True`, which issues a copy marked 「未签章副本 — 非正式报告」, recorded with `sealed: false`.
    `templates` overrides the firm's configured templates (gongu.templates decides, as for `gongu render`).
    """
    if signer is not None and unsealed:
        raise ValueError("unsealed=True is for issuing without a signer")
    settings = settings or load_settings()
    case_path = Path(case_path)
    now = clock.now()  # the one injected clock (generator/clock.py); tests pass a FixedClock

    # 1. Decide: may this report go out (9.3), and with which number.
    loaded = load_case(case_path)
    data = read_case_data(loaded)
    if reissue_reason is not None:
        data = reissued_data(data, loaded.case, reissue_reason, now.date())
        case = validate_data(data, str(case_path))
    else:
        case = loaded.case
        if problems := first_issue_problems(case):
            raise IssueRefused(problems)
    # Overdue documents are judged as of the report date; photos in the case's folder are decoded (5.3.1 d).
    reasons = check_issuable(case, case_dir=loaded.source.parent)
    reasons += unregistered_reviewers(case, settings)
    if signer is None and not unsealed:
        reasons.append("未配置签章（gongu.toml [signing]），正式报告须由公估机构盖章、承办人员签名；"
                       "如只需未签章副本，请用 --unsealed（no signer configured: a final report must be sealed）")
    if reasons:
        raise IssueRefused(reasons)
    chosen_templates = firm_templates(settings, templates)

    from generator.render import report_file_stem

    staged = LoadedCase(case=case, source=loaded.source, raw=dump_case_data(data) if reissue_reason else loaded.raw)
    stem = report_file_stem(staged)  # the report number, made safe as a file name
    target_dir = Path(out_dir) if out_dir is not None else default_out_dir(case, settings)
    targets = {kind: target_dir / f"{stem}.{kind}" for kind in ("pdf", "docx")}
    # The QC sheet is for the firm's file: kept apart from the client copies, never inside them.
    qc_target = target_dir / "internal" / f"{stem}-qc-sheet.html"
    clash = [str(p) for p in (*targets.values(), qc_target) if p.exists()]
    if clash:  # an issued report is never overwritten
        raise IssueFileExists(clash)

    target_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".issue-", dir=target_dir))
    try:
        # 2. Render, with the firm's templates; an unsealed copy is marked on every page.
        files = render(staged, work / "render", chosen_templates, None if signer else UNSEALED_MARK)
        # 3. Seal the PDF before anything is published: what is recorded is what the client gets.
        if signer is not None:
            files["pdf"] = signer.seal(files["pdf"], work / "sealed.pdf", data)
        # 4. Publish (never over an existing file) and record in the case file; undo on failure.
        qc_html = render_qc_sheet(case, stage="issue", case_dir=loaded.source.parent)
        recorded: dict[str, tuple[str, str]] = {}
        published: list[Path] = []
        try:
            for kind, target in targets.items():
                _publish(files[kind], target)
                published.append(target)
                recorded[kind] = (target.name, _sha256(target))
            qc_target.parent.mkdir(exist_ok=True)
            atomic_write(qc_target, qc_html.encode("utf-8"))
            published.append(qc_target)
            data.setdefault("issuances", []).append(issuance_entry(case, now, recorded, sealed=signer is not None))
            write_case_data(case_path, data)
        except BaseException:
            # Not recorded, so not issued: take back the files this run created (only those).
            for path in published:
                path.unlink(missing_ok=True)
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return IssueResult(number=case.report.number, supersedes=case.report.supersedes, files=targets,
                       qc_sheet=qc_target, case_file=case_path, sealed=signer is not None)


def _publish(source: Path, target: Path) -> None:
    """Move into place without ever replacing an existing file (link fails if the target exists)."""
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    try:
        os.link(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
