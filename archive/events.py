"""Listeners for archive events (ingest, hold, release, disposal …).

The archive must not import the search index (arrows point generator ← archive ← index ← gongu), yet
the index must follow the archive. So the archive calls plain callbacks after each committed change;
the gongu layer subscribes one that updates the index. A listener receives the committed `Event`
(kind, case_id, report_number, details — an ingest's details carry `rel_path`, the package folder
relative to the archive root) and the archive root. A failing listener never undoes the archive
change: the archive is the source of truth and the index can be rebuilt from packages."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

from archive.catalog import EVENT_KINDS, CatalogError, CatalogUnavailable, Event

Listener = Callable[[Event, Path], None]
log = logging.getLogger(__name__)


class Listeners:
    def __init__(self, initial: list[Listener] | tuple[Listener, ...] = ()) -> None:
        self._items: list[Listener] = list(initial)

    def subscribe(self, callback: Listener) -> Callable[[], None]:
        self._items.append(callback)
        return lambda: self._items.remove(callback)

    def notify(self, events: list[Event], root: Path) -> list[str]:
        """Call every listener for every event; return the failures (reported, never raised)."""
        failures: list[str] = []
        for event in events:
            for callback in list(self._items):
                try:
                    callback(event, root)
                except Exception as exc:  # noqa: BLE001 — a listener must not undo a committed archive change
                    log.debug("archive listener failed on event %s", event.seq, exc_info=True)
                    failures.append(f"事件 {event.seq}（{EVENT_KINDS.get(event.kind, event.kind)}）已写入，"
                                    f"其后续更新未完成：{plain_reason(exc)}")
        return failures


def plain_reason(exc: BaseException) -> str:
    """A failure as a person reads it: our own errors as they are, anything else by its first line,
    never an object's address."""
    if isinstance(exc, CatalogUnavailable):  # its own advice speaks of the operation, which was written
        return "与目录数据库服务器的连接随后中断（服务器恢复后运行 gongu index sync）"
    if isinstance(exc, CatalogError):
        return str(exc)
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return re.sub(r" at 0x[0-9a-fA-F]+", "", first)[:300]
