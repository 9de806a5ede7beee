"""Cases written in the browser: a new case from the insurer's (or commissioning party's) notice, each part
of the case file saved from its form, the history of every save, restore, and the case folder as a zip.

A draft's case.json may be incomplete: it is the same file `gongu validate` reads, and the pages show its
problems next to the fields. Every save replaces the file atomically (generator/atomic.py) and records the
whole file as a version in the catalog (archive/workspace_versions.py) with the account, the section and the
fields that changed. Two people on one section: each form carries the digest of the section it was
rendered from; a save whose digest is no longer the file's is refused and kept in the history as
`refused`, so the second person's text is not lost and the first person's stands."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from archive.catalog import Catalog
from archive.workspace import WorkspaceCase, get_case, put_case
from archive.workspace_versions import add_version, next_number
from generator.atomic import atomic_write
from generator.casefile import dump_case_data
from generator.loading import CaseFileError, parse_json, validate_data
from generator.problems import Problem
from generator.types import SHANGHAI
from gongu.pipeline.queue import refresh_due
from gongu.pipeline.workspace import (
    Actor,
    WorkspaceRefused,
    case_file,
    case_folder,
    workspace_root,
)
from gongu.settings import Settings

KINDS = {"car_survey": "survey", "forensic_appraisal": "forensic"}
# Set by the workspace, never by a form: the kind and id name the case; reviews and issuances are recorded
# by the review and issue steps under the deciding accounts.
NEVER_EDITED = frozenset({"schema_version", "kind", "case_id", "reviews", "issuances"})
EDITABLE = ("draft", "returned")


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    keys: tuple[str, ...]  # the case file's top-level keys this form edits
    clause: str  # where the code of practice (or the 通则) asks for it


# In the order of the report and of the code of practice (survey) or the 通则 (forensic).
SURVEY_SECTIONS = (
    Section("commission", "委托与受理", ("case_name", "statutory", "firm", "commission", "acceptance"), "4.1–4.2"),
    Section("handlers", "承办人员与约定查勘", ("handlers", "assigned_at", "contact"), "4.3–4.4"),
    Section("policy", "保险合同与保险项目", ("policy",), "5.2、6.2"),
    Section("project", "工程项目", ("project",), "9.2"),
    Section("incident", "事故经过", ("incident",), "5.1、9.2"),
    Section("survey", "现场查勘", ("survey",), "5.1–5.4"),
    Section("cause", "事故原因分析", ("cause",), "6.1"),
    Section("liability", "保险责任分析", ("liability",), "6.2–6.3"),
    Section("losses", "损失核定", ("losses",), "7.1–7.3、8"),
    Section("rescue", "施救费用", ("rescue_costs",), "7.4"),
    Section("third_party", "第三者责任及追偿", ("third_party",), "6.4"),
    Section("conclusion", "公估结论", ("conclusion",), "9.2"),
    Section("report", "公估报告", ("report",), "9.1–9.3"),
    Section("attachments", "附件", ("attachments",), "9.2"),
    Section("delivery", "交付与收费", ("delivery",), "10.1"),
)
FORENSIC_SECTIONS = (
    Section("commission", "委托与受理", ("case_name", "institution", "commission", "timeline", "selection", "single"),
            "通则第十一条至第十五条"),
    Section("people", "鉴定人员与回避", ("appraisers", "assistants", "recusals"), "通则第十九条、第二十条"),
    Section("parties", "当事人", ("parties",), "通则第十二条"),
    Section("materials", "鉴定材料", ("materials",), "通则第十二条、第二十二条"),
    Section("attendance", "到场见证", ("attendance",), "通则第二十三条至第二十五条"),
    Section("process", "鉴定过程与检验", ("process", "examination"), "通则第二十二条、第二十六条"),
    Section("findings", "鉴定结果", ("results",), "通则第三十六条"),
    Section("review", "复核意见", ("review_opinion",), "通则第三十五条"),
    Section("changes", "终止、补正、补充与争议", ("termination", "corrections", "supplementary", "disputes"),
            "通则第二十九条、第三十条至第三十二条、第四十条"),
    Section("report", "司法鉴定意见书", ("report", "attachments"), "通则第三十六条至第三十八条"),
    Section("delivery", "送达与收费", ("delivery",), "通则第三十九条"),
)


def sections(kind: str) -> tuple[Section, ...]:
    return FORENSIC_SECTIONS if kind == "forensic_appraisal" else SURVEY_SECTIONS


def section(kind: str, key: str) -> Section:
    for s in sections(kind):
        if s.key == key:
            return s
    raise WorkspaceRefused([f"没有这一部分：{key}"])


# ───────────────────────────── reading a draft ─────────────────────────────

def read_data(home: Path, case_id: str) -> dict[str, Any]:
    """The case file's JSON data (numbers as Decimal); a file that is not JSON at all is refused."""
    path = case_file(home, case_id)
    try:
        data = parse_json(path.read_bytes().decode("utf-8-sig"), str(path))
    except CaseFileError as exc:
        raise WorkspaceRefused([f"{p.path} {p.title}：{p.message}" for p in exc.problems]) from None
    if not isinstance(data, dict):
        raise WorkspaceRefused(["案件文件顶层不是 JSON 对象"])
    return data


def problems_of(data: dict[str, Any], source: str = "case.json") -> list[Problem]:
    """What `gongu validate` says about this data: empty when the case file is valid."""
    try:
        validate_data(data, source)
    except CaseFileError as exc:
        return list(exc.problems)
    return []


def digest(data: dict[str, Any], keys: tuple[str, ...]) -> str:
    """The SHA-256 of the section's part of the case file: the form's base for the conflict check."""
    part = {k: data.get(k) for k in keys}
    text = json.dumps(part, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def changed_paths(old: Any, new: Any, path: str = "$") -> list[str]:
    """The JSON paths of the leaves that differ (an object or list on one side only: each of its leaves)."""
    if old is None and isinstance(new, (dict, list)):
        old = type(new)()
    if new is None and isinstance(old, (dict, list)):
        new = type(old)()
    out: list[str] = []
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            out += changed_paths(old.get(key), new.get(key), f"{path}.{key}")
    elif isinstance(old, list) and isinstance(new, list):
        for i in range(max(len(old), len(new))):
            out += changed_paths(old[i] if i < len(old) else None, new[i] if i < len(new) else None, f"{path}[{i}]")
    # an empty row added or removed, a [] written where there was none: the container itself changed
    return out or ([] if old == new else [path])


# ───────────────────────────── who may write ─────────────────────────────

def writer_role(kind: str) -> str:
    return "appraiser" if kind == "forensic_appraisal" else "handler"


def edit_refusal(row: WorkspaceCase, account: Actor, people: list[str]) -> str | None:
    """Why this account may not change the case file now; None when it may. A case in review, issued or
    archived is read-only (a reissue starts a new draft, as `gongu issue --reissue` does)."""
    from gongu.access.case_access import supervises

    if row.status not in EDITABLE:
        return f"案件状态为「{row.status_title}」，只读：审核中、已出具、已归档的案件不能修改"
    if supervises(account, row.kind):
        return None
    if writer_role(row.kind) not in account.roles:
        return f"修改{'司法鉴定' if row.kind == 'forensic_appraisal' else '公估'}案件须有「{_role_title(row.kind)}」角色"
    if account.username != row.handler and account.person not in people:
        return f"账户 {account.username}（{account.person}）不是本案的{_role_title(row.kind)}，不能修改"
    return None


def _role_title(kind: str) -> str:
    return "鉴定人" if kind == "forensic_appraisal" else "承办"


# ───────────────────────────── a new case ─────────────────────────────

def render_case_id(pattern: str, day: datetime, seq: int) -> str:
    fields = {"yyyymmdd": day.strftime("%Y%m%d"), "yyyy": day.strftime("%Y"), "mm": day.strftime("%m"),
              "dd": day.strftime("%d"), "seq": seq}
    return pattern.format(**fields)


def next_case_id(catalog: Catalog, home: Path, settings: Settings, kind: str, now: datetime) -> str:
    """The next id of the firm's numbering (gongu.toml [numbering]) inside the caller's write transaction;
    an id already used (a case uploaded by hand under it) is skipped."""
    pattern = settings.toml.numbering.forensic if kind == "forensic_appraisal" else settings.toml.numbering.survey
    day = now.astimezone(SHANGHAI)
    prefix = render_case_id(re.sub(r"\{seq(:[^}]*)?\}.*$", "", pattern), day, 0)
    while True:
        case_id = render_case_id(pattern, day, next_number(catalog, prefix))
        if get_case(catalog, case_id) is None and not case_folder(home, case_id).exists():
            return case_id


def local_time(now: datetime) -> str:
    """A case file's timestamp: Beijing time without a zone, to the second."""
    return now.astimezone(SHANGHAI).replace(tzinfo=None).isoformat(timespec="seconds")


def skeleton(settings: Settings, kind: str, case_id: str, notice: dict[str, Any], people: list[str],
             now: datetime, received_at: str | None = None) -> dict[str, Any]:
    """The case file a new case starts with: what the notice gave, the firm or institution from gongu.toml
    [drafting], the people chosen, and the time the case was received — the clock of 4.4 (survey) and of
    the 受理 limit (通则第十三条) starts here."""
    at = local_time(now)
    data: dict[str, Any] = {"schema_version": "1", "kind": kind, "case_id": case_id}
    data.update({k: v for k, v in notice.items() if v not in (None, "", [], {})})
    commission = dict(data.pop("commission", None) or {})
    if kind == "forensic_appraisal":
        if settings.toml.drafting.institution:
            data.setdefault("institution", dict(settings.toml.drafting.institution))
        data["appraisers"] = [{"name": p} for p in people]
        data["commission"] = commission
        data["timeline"] = {"received_at": received_at or at}
    else:
        if settings.toml.drafting.firm:
            data.setdefault("firm", dict(settings.toml.drafting.firm))
        commission["received_at"] = received_at or at
        data["commission"] = commission
        data["handlers"] = [{"name": p} for p in people]
        data["assigned_at"] = at
    return data


def create_case(catalog: Catalog, home: Path, settings: Settings, *, kind: str, notice: dict[str, Any],
                people: list[str], account: Actor, now: datetime, received_at: str | None = None) -> WorkspaceCase:
    """A new case in the workspace, numbered by the firm's pattern, with its first version; the creating
    account is recorded as the case's uploader. Refused unless the account may write cases of the kind
    (or supervises it) and at least one person is named."""
    from gongu.access.case_access import supervises

    if kind not in KINDS:
        raise WorkspaceRefused([f"未知的案件类型：{kind}"])
    if writer_role(kind) not in account.roles and not supervises(account, kind):
        raise WorkspaceRefused([f"新建{'司法鉴定' if kind == 'forensic_appraisal' else '公估'}案件须有"
                                f"「{_role_title(kind)}」或本类主管角色"])
    people = [p for p in dict.fromkeys(people) if p]
    if not people:
        raise WorkspaceRefused([f"须至少指定一名{'鉴定人' if kind == 'forensic_appraisal' else '承办人员'}"])
    stamp = now.isoformat(timespec="seconds")
    root = workspace_root(home)
    root.mkdir(parents=True, exist_ok=True)
    with catalog.write():
        case_id = next_case_id(catalog, home, settings, kind, now)
        data = skeleton(settings, kind, case_id, notice, people, now, received_at)
        payload = dump_case_data(data)
        folder = case_folder(home, case_id)
        folder.mkdir(parents=True)
        try:
            atomic_write(folder / "case.json", payload)
            put_case(catalog, case_id=case_id, kind=kind, status="draft", handler=account.username,
                     handler_person=account.person, next_level=None, at=stamp, people=people,
                     **summary_of(data))
            add_version(catalog, case_id=case_id, at=stamp, account=account.username, person=account.person,
                        section="", action="created", paths=json.dumps(sorted(data), ensure_ascii=False),
                        content=payload.decode("utf-8"))
            refresh_due(catalog, home, case_id, now)
        except BaseException:
            (folder / "case.json").unlink(missing_ok=True)
            folder.rmdir()
            raise
    row = get_case(catalog, case_id)
    assert row is not None
    return row


def summary_of(data: dict[str, Any]) -> dict[str, str]:
    """The case list's columns, read from a draft that may be incomplete."""
    def text(*keys: str) -> str:
        value: Any = data
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value if isinstance(value, str) else ""

    if data.get("kind") == "forensic_appraisal":
        parties = data.get("parties") if isinstance(data.get("parties"), list) else []
        insured = "、".join(p["name"] for p in parties
                           if isinstance(p, dict) and p.get("role") == "insured" and isinstance(p.get("name"), str))
        project = ""
    else:
        insured, project = text("policy", "insured"), text("project", "name")
    return {"case_name": text("case_name"), "project": project, "insured": insured,
            "report_number": text("report", "number")}


def named_people(data: dict[str, Any]) -> list[str]:
    """The handlers' (survey) or appraisers' (forensic) names the draft records."""
    key = "appraisers" if data.get("kind") == "forensic_appraisal" else "handlers"
    rows = data.get(key) if isinstance(data.get(key), list) else []
    return [r["name"] for r in rows if isinstance(r, dict) and isinstance(r.get("name"), str) and r["name"]]
