"""The Archive object: where packages live, the catalog, the clock, the firm key and the verifier.

Operations live in their own modules (ingest, holds, disposal, retrieval, audit, fsck) and take an
Archive; this module only ties the parts together."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from archive.catalog import Catalog, Event
from archive.eventlog import CheckpointSigner, make_checkpoint
from archive.events import Listener, Listeners
from archive.retention import RetentionClass, load_classes
from generator.types import SHANGHAI
from signing.status import Verifier

CRASH_ENV = "GONGU_ARCHIVE_CRASH_AT"


def crash_point(name: str) -> None:
    """Tests set GONGU_ARCHIVE_CRASH_AT to die (os._exit, no cleanup) at a named step, to prove that a
    crash anywhere leaves no package or a complete one."""
    if os.environ.get(CRASH_ENV) == name:
        os._exit(137)


class ArchiveError(Exception):
    """An archive operation refused or failed, with a reason a person can act on."""


@dataclass
class ArchiveConfig:
    root: Path  # packages: <root>/<year>/<case id>/<report number>/
    catalog_path: Path
    checkpoint_dir: Path | None = None
    checkpoint_every: int = 50  # sign a checkpoint after this many new events
    retention: dict[str, RetentionClass] = field(default_factory=load_classes)

    @classmethod
    def under(cls, home: Path, section: dict[str, Any] | None = None) -> ArchiveConfig:
        """Defaults under GONGU_HOME/archive, overridable by gongu.toml [archive]."""
        s = section or {}

        def p(key: str, default: str) -> Path:
            raw = Path(str(s.get(key, default))).expanduser()
            return raw if raw.is_absolute() else home / raw

        retention = s.get("retention", {})
        return cls(root=p("root", "archive/packages"), catalog_path=p("catalog", "archive/catalog.sqlite"),
                   checkpoint_dir=p("checkpoint_dir", "archive/checkpoints"),
                   checkpoint_every=int(s.get("checkpoint_every", 50)),
                   retention=load_classes(retention if isinstance(retention, dict) else {}))


def parse_now(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def system_clock() -> datetime:
    # GONGU_NOW lets tests (and rehearsals) move the clock to check retention expiry without waiting
    # 15 years. The real wall-clock time is recorded beside it in disposal events.
    override = os.environ.get("GONGU_NOW")
    return parse_now(override) if override else datetime.now(UTC).astimezone(SHANGHAI)


class Archive:
    def __init__(self, config: ArchiveConfig, *, signer: CheckpointSigner | None = None,
                 verifier: Verifier | None = None, clock: Callable[[], datetime] = system_clock,
                 listeners: list[Listener] | tuple[Listener, ...] = ()) -> None:
        self.config = config
        self.root = config.root
        self.root.mkdir(parents=True, exist_ok=True)
        self.catalog = Catalog(config.catalog_path)
        self.signer = signer
        self.verifier = verifier
        self.clock = clock
        self.listeners = Listeners(listeners)
        self.listener_failures: list[str] = []

    def close(self) -> None:
        self.catalog.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> datetime:
        return self.clock().astimezone(SHANGHAI)

    def today(self) -> date:
        return self.now().date()

    def subscribe(self, callback: Listener) -> Callable[[], None]:
        return self.listeners.subscribe(callback)

    def committed(self, events: list[Event]) -> None:
        """After a commit: notify listeners, then sign a checkpoint if enough events accumulated."""
        if not events:
            return
        self.listener_failures += self.listeners.notify(events, self.root)
        self.maybe_checkpoint()

    def maybe_checkpoint(self) -> dict[str, Any] | None:
        if self.signer is None or self.config.checkpoint_every <= 0:
            return None
        size = self.catalog.event_count()
        last = self.catalog.last_checkpoint_size()
        if size - last < self.config.checkpoint_every:
            return None
        return self.checkpoint()

    def checkpoint(self) -> dict[str, Any]:
        if self.signer is None:
            raise ArchiveError("未配置机构签章密钥（gongu.toml [signing]），无法签署日志检查点")
        return make_checkpoint(self.catalog, self.signer, self.now(), self.config.checkpoint_dir)
