"""The Archive object: where packages live, the catalog, the clock (injected, generator/clock.py), the firm key and the verifier.

Operations live in their own modules (ingest, holds, disposal, retrieval, audit, fsck) and take an
Archive; this module only ties the parts together."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.catalog import Catalog, CatalogError, Event
from archive.catalog_server import ServerStore
from archive.errors import ArchiveError
from archive.eventlog import CheckpointSigner, make_checkpoint
from archive.events import Listener, Listeners
from archive.retention import RetentionClass, load_classes
from generator.clock import SYSTEM_CLOCK, Clock
from generator.types import SHANGHAI, beijing_date
from signing.status import Verifier

if TYPE_CHECKING:
    from archive.identity import RootState

CRASH_ENV = "GONGU_ARCHIVE_CRASH_AT"


def crash_point(name: str) -> None:
    """Tests set GONGU_ARCHIVE_CRASH_AT to die (os._exit, no cleanup) at a named step, to prove that a
    crash anywhere leaves no package or a complete one."""
    if os.environ.get(CRASH_ENV) == name:
        os._exit(137)


@dataclass
class ArchiveConfig:
    root: Path  # packages: <root>/<year>/<case id>/<report number>/
    catalog_path: Path
    checkpoint_dir: Path | None = None
    checkpoint_every: int = 50  # sign a checkpoint after this many new events
    retention: dict[str, RetentionClass] = field(default_factory=load_classes)
    server: ServerStore | None = None  # a shared PostgreSQL catalog instead of the SQLite file
    # Folders holding other copies of a case as <folder>/<case id>/ (the workspace, the issued reports,
    # rendered previews): a disposal removes them with the package (archive/disposal.py)
    copies: tuple[Path, ...] = ()

    @property
    def catalog_location(self) -> Path | ServerStore:
        return self.server if self.server is not None else self.catalog_path

    @property
    def files_dir(self) -> Path:
        """Files kept with the catalog (the pinned firm certificate): beside the SQLite file, or in the
        shared package tree for a server catalog (archive/firmcert.py)."""
        return self.server.files_dir if self.server is not None else self.catalog_path.parent

    @classmethod
    def under(cls, home: Path, *, root: str | Path = "archive/packages",
              catalog: str | Path = "archive/catalog.sqlite", checkpoint_dir: str | Path = "archive/checkpoints",
              checkpoint_every: int = 50, retention: dict[str, Any] | None = None,
              server: ServerStore | None = None, copies: tuple[str | Path, ...] = ()) -> ArchiveConfig:
        """Defaults under GONGU_HOME/archive, overridable by gongu.toml [archive] (gongu/settings.py);
        `server`: gongu.toml [store] names a PostgreSQL catalog."""

        def p(raw: str | Path) -> Path:
            path = Path(raw).expanduser()
            return path if path.is_absolute() else home / path

        return cls(root=p(root), catalog_path=p(catalog), checkpoint_dir=p(checkpoint_dir),
                   checkpoint_every=checkpoint_every, retention=load_classes(retention or {}), server=server,
                   copies=tuple(p(c) for c in copies))


class Archive:
    # RFC 3161 client and the roots its tokens must chain to, when a timestamp authority is configured
    # (set by the application, gongu/pipeline/archiving.py): disposal steps then carry a token and are judged on its
    # time (archive/timestamps.py).
    timestamper: Callable[[bytes], bytes] | None = None
    timestamp_roots: tuple[Any, ...] = ()

    def __init__(self, config: ArchiveConfig, *, signer: CheckpointSigner | None = None,
                 verifier: Verifier | None = None, clock: Clock = SYSTEM_CLOCK,
                 listeners: list[Listener] | tuple[Listener, ...] = ()) -> None:
        self.config = config
        self.root = config.root  # not created here: `gongu archive init` makes it (archive/identity.py)
        self.catalog = Catalog(config.catalog_location)
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

    def root_state(self) -> RootState:
        """Whether the root holds this catalog's identity (archive/identity.py)."""
        from archive.identity import root_state

        return root_state(self.catalog, self.root)

    def require_root(self) -> None:
        """Every write into the archive starts here: the root must hold the identity the catalog
        expects (the shared package tree is mounted), else ArchiveRootError before anything is created.
        Checked on every write, not once: a long-lived Archive (a web worker's) outlives a mount."""
        from archive.identity import require_root

        require_root(self.catalog, self.root)

    def now(self) -> datetime:
        return self.clock.now().astimezone(SHANGHAI)

    def today(self) -> date:
        return beijing_date(self.now())

    def subscribe(self, callback: Listener) -> Callable[[], None]:
        return self.listeners.subscribe(callback)

    def committed(self, events: list[Event]) -> None:
        """After a commit: notify listeners, then sign a checkpoint if enough events accumulated."""
        if not events:
            return
        self.listener_failures += self.listeners.notify(events, self.root)
        try:
            self.maybe_checkpoint()
        except (CatalogError, ArchiveError) as exc:  # the change is committed: say so, and what to run next
            why = "与目录数据库服务器的连接中断" if isinstance(exc, CatalogError) else str(exc)
            self.listener_failures.append(
                f"已写入（事件 {events[0].seq}–{events[-1].seq}）；随后未能签署日志检查点（{why}）："
                "恢复后运行 gongu index sync 与 gongu archive log checkpoint")

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
        self.require_root()  # the pin and the exported checkpoint go with the archive, never into an empty mount
        return make_checkpoint(self.catalog, self.signer, self.now(), self.config.checkpoint_dir)
