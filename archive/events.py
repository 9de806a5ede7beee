"""Listeners for archive events (ingest, hold, release, disposal …).

The archive must not import the search index (arrows point generator ← archive ← index ← gongu), yet
the index must follow the archive. So the archive calls plain callbacks after each committed change;
the gongu layer subscribes one that updates the index. A listener receives the committed `Event`
(kind, case_id, report_number, details — an ingest's details carry `rel_path`, the package folder
relative to the archive root) and the archive root. A failing listener never undoes the archive
change: the archive is the source of truth and the index can be rebuilt from packages."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from archive.catalog import Event

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
                    log.warning("archive listener failed on event %s: %s", event.seq, exc)
                    failures.append(f"{getattr(callback, '__name__', callback)}: {exc}")
        return failures
