"""Verification results as explicit status objects (shaped like pyHanko's `validation/status.py`).

signing/verify.py fills them from pyHanko's validation; the archive and the CLI read only these. The archive
needs just a yes or no with a reason (`VerifyOutcome`); `Verifier` is the callable the application layer
injects into it, built from the configured trust roots."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DOCMDP_TITLES = {
    1: "不允许任何修改 (no changes)",
    2: "仅允许填写表单和签名 (form filling and signing)",
    3: "允许填写表单、签名和注释 (form filling, signing, annotations)",
}



class VerifyError(Exception):
    """The file cannot be checked at all (not a PDF, unreadable, bad trust file)."""


@dataclass(frozen=True)
class TimestampInfo:
    time: dt.datetime
    tsa: str  # the TSA certificate's subject
    tsa_name: str  # its common name, for people
    intact: bool
    valid: bool
    trusted: bool


@dataclass(frozen=True)
class SignatureReport:
    field: str
    kind: str  # "certification" | "approval" | "document_timestamp"
    signer: str
    subject: str
    serial: str
    not_after: dt.datetime
    signing_time: dt.datetime | None
    timestamp: TimestampInfo | None
    intact: bool
    valid: bool
    trusted: bool
    trust_problem: str | None
    coverage: str
    docmdp_level: int | None
    modification_level: str | None
    docmdp_ok: bool | None
    changed_fields: tuple[str, ...]
    suspicious_change: str | None
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class VerificationReport:
    file: str
    signatures: tuple[SignatureReport, ...]
    document_timestamps: tuple[SignatureReport, ...]
    certified: bool
    docmdp_level: int | None
    has_dss: bool
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems and all(s.ok for s in self.signatures + self.document_timestamps)

    def all_problems(self) -> list[str]:
        out = list(self.problems)
        for s in self.signatures + self.document_timestamps:
            out += [f"{s.field}：{p}" for p in s.problems]
        return out

    def as_dict(self) -> dict[str, Any]:
        def clean(value: Any) -> Any:
            if isinstance(value, dt.datetime):
                return value.isoformat()
            if isinstance(value, dict):
                return {k: clean(v) for k, v in value.items()}
            if isinstance(value, list | tuple):
                return [clean(v) for v in value]
            return value

        data = clean(asdict(self))
        data["ok"] = self.ok
        data["all_problems"] = self.all_problems()
        return data


@dataclass(frozen=True)
class VerifyOutcome:
    ok: bool
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


Verifier = Callable[[Path], VerifyOutcome]
