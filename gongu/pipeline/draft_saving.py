"""Saving a case written in the browser: one section at a time, atomically, each save a version in the
catalog; a conflicting save refused and kept; a version restored; files (photos, scans) added; the case
folder downloaded as the same folder `gongu` commands take (see gongu/pipeline/drafting.py)."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from archive.catalog import Catalog
from archive.workspace import WorkspaceCase, get_case, put_case
from archive.workspace_versions import add_version, version_content
from generator.atomic import atomic_write
from generator.casefile import dump_case_data
from generator.loading import parse_json
from generator.problems import Problem
from gongu.pipeline.drafting import (
    NEVER_EDITED,
    changed_paths,
    digest,
    edit_refusal,
    named_people,
    problems_of,
    read_data,
    section,
    summary_of,
)
from gongu.pipeline.queue import refresh_due
from gongu.pipeline.workspace import (
    Actor,
    WorkspaceRefused,
    case_file,
    case_folder,
)

CONFLICT = "这一部分已被他人修改并保存，您的修改未保存（已留在修改记录中，可对照后重新填写）"


class SectionConflict(WorkspaceRefused):
    """The section changed since the form was rendered: the save is refused (and kept in the history)."""

    def __init__(self, version: int, by: str) -> None:
        self.version = version
        super().__init__([f"{CONFLICT}：最近一次由 {by} 保存"])


@dataclass(frozen=True)
class Saved:
    version: int | None  # None: nothing changed, no version recorded
    digest: str  # the section's digest now: the form's next base
    problems: list[Problem]  # what `gongu validate` says about the whole file now
    paths: list[str]  # the JSON paths this save changed


def _row_and_data(catalog: Catalog, home: Path, case_id: str, account: Actor) -> tuple[WorkspaceCase, dict[str, Any]]:
    row = get_case(catalog, case_id)
    if row is None:
        raise WorkspaceRefused([f"工作台中没有案件 {case_id}"])
    data = read_data(home, case_id)
    refusal = edit_refusal(row, account, named_people(data))
    if refusal:
        raise WorkspaceRefused([refusal])
    return row, data


def _last_saver(catalog: Catalog, case_id: str) -> str:
    from archive.workspace_versions import versions

    for v in versions(catalog, case_id):
        if v.action != "refused":
            return f"{v.person}（{v.account}）{v.at}"
    return "他人"


def _store(catalog: Catalog, home: Path, row: WorkspaceCase, data: dict[str, Any], *, account: Actor, at: str,
           section_key: str, action: str, paths: list[str], now: datetime) -> int:
    """Write the file and its version in one catalog transaction: the file is replaced atomically inside it,
    so a failed catalog write leaves the old file (put back) and no version."""
    payload = dump_case_data(data)
    path = case_file(home, row.case_id)
    old = path.read_bytes()
    with catalog.write():
        atomic_write(path, payload)
        try:
            put_case(catalog, case_id=row.case_id, kind=row.kind, status=row.status, handler=row.handler,
                     handler_person=row.handler_person, next_level=row.next_level, at=at,
                     people=named_people(data), **summary_of(data))
            number = add_version(catalog, case_id=row.case_id, at=at, account=account.username,
                                 person=account.person, section=section_key, action=action,
                                 paths=json.dumps(paths, ensure_ascii=False), content=payload.decode("utf-8"))
            refresh_due(catalog, home, row.case_id, now)
        except BaseException:
            atomic_write(path, old)
            raise
    return number


def save_section(catalog: Catalog, home: Path, case_id: str, section_key: str, values: dict[str, Any], *,
                 base: str, account: Actor, now: datetime) -> Saved:
    """Replace the section's top-level keys with `values` (a key absent from `values` is removed from the
    file). `base` is the section digest the form was rendered from: when the file's is different, another
    person saved the section first — SectionConflict, and what this person submitted is kept as a
    `refused` version. Nothing changed: no version."""
    row, data = _row_and_data(catalog, home, case_id, account)
    sec = section(row.kind, section_key)
    new = dict(data)
    for key in sec.keys:
        if key in NEVER_EDITED:
            continue
        if key in values:
            new[key] = values[key]
        else:
            new.pop(key, None)
    paths = changed_paths(data, new)
    at = now.isoformat(timespec="seconds")
    if digest(data, sec.keys) != base:
        if not paths:  # what was submitted is what the file holds now: nothing to refuse
            return Saved(None, digest(data, sec.keys), problems_of(data), [])
        by = _last_saver(catalog, case_id)
        with catalog.write():
            number = add_version(catalog, case_id=case_id, at=at, account=account.username, person=account.person,
                                 section=section_key, action="refused", paths=json.dumps(paths, ensure_ascii=False),
                                 content=dump_case_data(new).decode("utf-8"))
        raise SectionConflict(number, by)
    if not paths:
        return Saved(None, base, problems_of(data), [])
    number = _store(catalog, home, row, new, account=account, at=at, section_key=section_key, action="saved",
                    paths=paths, now=now)
    return Saved(number, digest(new, sec.keys), problems_of(new), paths)


def restore(catalog: Catalog, home: Path, case_id: str, version: int, *, account: Actor, now: datetime) -> int:
    """Make an earlier version (also a refused one) the case file again, as a new version `restored`; the
    records the workspace keeps (reviews, issuances, and the id and kind) stay as the file has them now."""
    row, data = _row_and_data(catalog, home, case_id, account)
    try:
        content = version_content(catalog, case_id, version)
    except ValueError as exc:
        raise WorkspaceRefused([str(exc)]) from None
    if content is None:
        raise WorkspaceRefused([f"案件 {case_id} 没有第 {version} 版"])
    old = parse_json(content, f"{case_id} v{version}")
    new = {k: v for k, v in old.items() if k not in NEVER_EDITED}
    new.update({k: data[k] for k in NEVER_EDITED if k in data})
    paths = changed_paths(data, new)
    return _store(catalog, home, row, new, account=account, at=now.isoformat(timespec="seconds"),
                  section_key=f"v{version}", action="restored", paths=paths, now=now)


def add_files(catalog: Catalog, home: Path, case_id: str, files: dict[str, bytes], values: dict[str, Any], *,
              section_key: str, account: Actor, now: datetime) -> int:
    """Put files (photos, scans: case-relative names, already checked by the caller) into the case folder
    and save the section `values` that name them, as one version. A file is written before the case file
    names it; a refused save removes the files it wrote."""
    row, data = _row_and_data(catalog, home, case_id, account)
    folder = case_folder(home, case_id)
    written: list[Path] = []
    try:
        for name, content in files.items():
            target = (folder / name).resolve()
            if not target.is_relative_to(folder.resolve()) or target.exists():
                raise WorkspaceRefused([f"文件名不可用：{name}"])
            atomic_write(target, content)
            written.append(target)
        new = dict(data)
        new.update({k: v for k, v in values.items() if k not in NEVER_EDITED})
        return _store(catalog, home, row, new, account=account, at=now.isoformat(timespec="seconds"),
                      section_key=section_key, action="saved", paths=changed_paths(data, new), now=now)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def reopen_for_reissue(catalog: Catalog, home: Path, case_id: str, reason: str, *, account: Actor,
                       now: datetime) -> int:
    """An issued (or archived) case made a draft again to be corrected and reissued, as `gongu issue --reissue`
    does: its report, reviews and issuances stay on record; the reason is kept in $.report.reissue_reason; the
    next issue, after a new three-level review, is the report under the next R number superseding this one."""
    from dataclasses import replace

    from gongu.pipeline.workspace import not_held

    row = get_case(catalog, case_id)
    if row is None:
        raise WorkspaceRefused([f"工作台中没有案件 {case_id}"])
    if row.status not in ("issued", "archived"):
        raise WorkspaceRefused([f"案件状态为「{row.status_title}」，只有已出具或已归档的案件可以重新出具"])
    not_held(catalog, case_id)
    data = read_data(home, case_id)
    draft = replace(row, status="draft", next_level=None)
    refusal = edit_refusal(draft, account, named_people(data))
    if refusal:
        raise WorkspaceRefused([refusal])
    if not reason.strip():
        raise WorkspaceRefused(["重新出具须说明原因"])
    new = dict(data)
    new["report"] = {**(data.get("report") or {}), "reissue_reason": reason.strip()[:2000]}
    return _store(catalog, home, draft, new, account=account, at=now.isoformat(timespec="seconds"),
                  section_key="reissue", action="saved", paths=changed_paths(data, new), now=now)


def folder_zip(home: Path, case_id: str) -> bytes:
    """The case folder as `gongu` commands take it: case.json and every file under the folder (photos,
    scans), in one top folder named by the case id; hidden files left out (issued reports live elsewhere)."""
    folder = case_folder(home, case_id)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder)
            if not path.is_file() or path.is_symlink() or any(part.startswith(".") for part in rel.parts):
                continue
            zf.write(path, f"{case_id}/{rel.as_posix()}")
    return out.getvalue()
