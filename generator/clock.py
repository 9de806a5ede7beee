"""The one clock. Everything that needs "now" is given a Clock: production code gets SYSTEM_CLOCK, tests
construct objects with a FixedClock. No environment variable or command-line option moves time in
production: time that moves on request would let anyone dispose a package before its retention end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from generator.types import SHANGHAI


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime in Asia/Shanghai."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC).astimezone(SHANGHAI)


@dataclass
class FixedClock:
    """A clock that says what it is told: for tests and rehearsals, constructed in Python only."""

    at: datetime

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:  # a naive time is a Beijing time, as everywhere in Gongu
            self.at = self.at.replace(tzinfo=SHANGHAI)

    @classmethod
    def parse(cls, text: str) -> FixedClock:
        return cls(datetime.fromisoformat(text))

    def now(self) -> datetime:
        return self.at.astimezone(SHANGHAI)

    def advance(self, delta: timedelta) -> None:
        self.at = self.at + delta


SYSTEM_CLOCK: Clock = SystemClock()

