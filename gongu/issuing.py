"""`gongu issue`: render → [post-render steps, e.g. sealing] → move into place → record in the case file.

The domain decisions (may it be issued, the reissue number) are generator.issuance's; this module only
composes them with rendering and the file system. Steps that change the rendered files before they are
recorded (the PAdES seal, issue 5) are appended to POST_RENDER_STEPS, or passed as `steps=`; each gets
the `IssueJob` and may replace `job.files[kind]` with its own output in `job.work_dir`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from generator.casefile import atomic_write, dump_case_data, read_case_data, write_case_data
from generator.issuance import IssueRefused, check_issuable, first_issue_problems, issuance_entry, reissued_data
from generator.loading import LoadedCase, load_case, validate_data
from generator.model import CarSurveyCase
from generator.qc_sheet import render_qc_sheet
from generator.types import SHANGHAI
from gongu.settings import load_settings


@dataclass
class IssueJob:
    loaded: LoadedCase  # the case as it goes into the report (new number on a reissue; no new issuance yet)
    data: dict[str, Any]
    out_dir: Path
    work_dir: Path  # scratch folder inside out_dir, removed at the end
    files: dict[str, Path] = field(default_factory=dict)  # "pdf" / "docx" → the file to publish

    @property
    def case(self) -> CarSurveyCase:
        return self.loaded.case


Step = Callable[[IssueJob], None]


class IssueFileExists(Exception):
    """A report with this number is already on disk: never overwritten (usage error, exit 2)."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        super().__init__("文件已存在，不覆盖已出具的报告：" + "、".join(paths))
# Later steps (sealing) register here; they run in order after rendering, before anything is published.
POST_RENDER_STEPS: list[Step] = []


@dataclass(frozen=True)
class IssueResult:
    number: str
    supersedes: str | None
    files: dict[str, Path]
    qc_sheet: Path
    case_file: Path


def default_out_dir(case: CarSurveyCase) -> Path:
    return load_settings().home / "issued" / case.case_id


def render_step(job: IssueJob) -> None:
    from generator.render import render_report  # the renderer is heavy (WeasyPrint); import on use

    result = render_report(job.loaded, job.work_dir / "render", formats=("pdf", "docx"))
    job.files = {"pdf": Path(result.pdf), "docx": Path(result.docx)}


def issue_case(
    case_path: str | Path,
    *,
    out_dir: str | Path | None = None,
    reissue_reason: str | None = None,
    now: datetime | None = None,
    steps: Sequence[Step] | None = None,
    render: Step = render_step,
) -> IssueResult:
    """Issue (or reissue) the report of the case at `case_path`. Raises IssueRefused with every reason."""
    case_path = Path(case_path)
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
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
    if reasons:
        raise IssueRefused(reasons)

    from generator.render import report_file_stem

    staged = LoadedCase(case=case, source=loaded.source, raw=dump_case_data(data) if reissue_reason else loaded.raw)
    stem = report_file_stem(staged)  # the report number, made safe as a file name
    target_dir = Path(out_dir) if out_dir is not None else default_out_dir(case)
    targets = {kind: target_dir / f"{stem}.{kind}" for kind in ("pdf", "docx")}
    # The QC sheet is for the firm's file: kept apart from the client copies, never inside them.
    qc_target = target_dir / "internal" / f"{stem}-qc-sheet.html"
    clash = [str(p) for p in (*targets.values(), qc_target) if p.exists()]
    if clash:  # an issued report is never overwritten
        raise IssueFileExists(clash)

    target_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".issue-", dir=target_dir))
    try:
        job = IssueJob(loaded=staged, data=data, out_dir=target_dir, work_dir=work)
        render(job)
        for step in POST_RENDER_STEPS if steps is None else steps:
            step(job)
        qc_html = render_qc_sheet(case, stage="issue", case_dir=loaded.source.parent)
        recorded: dict[str, tuple[str, str]] = {}
        published: list[Path] = []
        try:
            for kind, target in targets.items():
                _publish(job.files[kind], target)
                published.append(target)
                recorded[kind] = (target.name, _sha256(target))
            qc_target.parent.mkdir(exist_ok=True)
            atomic_write(qc_target, qc_html.encode("utf-8"))
            published.append(qc_target)
            data.setdefault("issuances", []).append(issuance_entry(case, now, recorded))
            write_case_data(case_path, data)
        except BaseException:
            # Not recorded, so not issued: take back the files this run created (only those).
            for path in published:
                path.unlink(missing_ok=True)
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return IssueResult(number=case.report.number, supersedes=case.report.supersedes, files=targets,
                       qc_sheet=qc_target, case_file=case_path)


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
