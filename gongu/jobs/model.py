"""A job as callers see it, and the Chinese titles of its kinds and states."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KIND_TITLES: dict[str, str] = {
    "issue": "出具报告（渲染、签章、记录、归档）",
    "issue_additional": "补充出具文书（鉴定）",
    "ingest": "归档入库",
    "index_rebuild": "重建检索索引",
    "index_sync": "同步检索索引",
    "audit": "档案四性检测",
    "verify_package": "核验档案包签章（立即验证）",
    "ledger_export": "导出业务台账",
    "render_batch": "批量渲染",
    "deadline_scan": "每日期限扫描",
    "preview": "预览草稿报告",
}
STATE_TITLES: dict[str, str] = {
    "queued": "排队中",
    "running": "进行中",
    "done": "已完成",
    "failed": "失败",
    "cancelled": "已取消",
}


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    case_id: str | None
    params: dict[str, Any]
    state: str
    step: str
    done: int
    total: int
    started_by: str
    started_by_person: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    heartbeat_at: str | None
    machine: str | None
    worker: str | None
    attempts: int
    result: dict[str, Any] | None
    error: str | None
    cancel_requested: str | None = None  # who asked to stop a running job (the task stops at its next step)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Job:
        return cls(**{k: row[k] for k in cls.__dataclass_fields__ if k in row})

    @property
    def kind_title(self) -> str:
        return KIND_TITLES.get(self.kind, self.kind)

    @property
    def state_title(self) -> str:
        return STATE_TITLES.get(self.state, self.state)

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")

    def to_json(self) -> dict[str, Any]:
        """The job as `gongu jobs show --json` and the web's JSON print it."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["kind_title"] = self.kind_title
        out["state_title"] = self.state_title
        return out
