"""The checks an issue passes before it is queued as a background job: the quick ones of
`workspace.issue_and_archive` (role, holds 10.4, status after the three-level review 9.3, every signer
confirmed under their own account, the report number), asked at the click so a refusal is answered at
once on the case page with every reason, and the job is left only the long work. The job asks them all
again under the case's issue lock, so nothing that changed in between slips through."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from archive.catalog import Catalog
from generator.loading import CaseFileError
from gongu.pipeline import workspace


def issue_refusals(catalog: Catalog, home: Path, case_id: str, *, account: workspace.Actor,
                   now: datetime) -> None:
    """Raise workspace.WorkspaceRefused (every reason) when the case may not be issued now by `account`;
    workspace.IssueInProgress when an issue (from the CLI or another office) holds the case's lock."""
    from archive.workspace_steps import current_lock

    if "approver" not in account.roles:
        raise workspace.WorkspaceRefused(["只有审核（approver）角色可以出具并签章"])
    workspace.not_held(catalog, case_id)
    row = workspace.ready_to_issue(workspace.case_row(catalog, case_id))
    held = current_lock(catalog, case_id)
    if held is not None and not _stale(held.started_at, now):
        raise workspace.IssueInProgress(held.account, held.started_at)
    try:
        loaded = workspace.load(home, case_id)
    except CaseFileError as exc:
        raise workspace.WorkspaceRefused([f"{p.path} {p.title}：{p.message}" for p in exc.problems]) from None
    if reasons := workspace.unconfirmed_signers(catalog, row, loaded) + workspace.report_number_problems(catalog, home, loaded):
        raise workspace.WorkspaceRefused(reasons)


def _stale(started_at: str, now: datetime) -> bool:
    """A lock older than the lock's own stale limit belongs to an issue that died: take_lock replaces it."""
    from archive.workspace_steps import STALE_AFTER

    return now - datetime.fromisoformat(started_at) > STALE_AFTER
