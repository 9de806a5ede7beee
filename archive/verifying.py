"""The small interface through which the archive asks whether a sealed report verifies.

archive/verify.py (PAdES validation with pyHanko) does the real work; the archive only needs a yes or no
with a reason, so the gongu layer injects `Verifier = Callable[[Path], VerifyOutcome]` built from the
configured trust roots."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class VerifyOutcome:
    ok: bool
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


Verifier = Callable[[Path], VerifyOutcome]
