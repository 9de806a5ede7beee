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

from generator.types import SHANGHAI

DOCMDP_TITLES = {
    1: "不允许任何修改 (no changes)",
    2: "仅允许填写表单和签名 (form filling and signing)",
    3: "允许填写表单、签名和注释 (form filling, signing, annotations)",
}



def beijing(moment: dt.datetime) -> dt.datetime:
    """A signing or timestamp time as people in China read it: Beijing time (+08:00). pyHanko gives UTC; a
    naive time is taken as UTC, the time base of CMS signing-time and RFC 3161 genTime."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(SHANGHAI)


def beijing_text(moment: dt.datetime) -> str:
    """`2026-12-07 20:59:11 北京时间`."""
    return f"{beijing(moment):%Y-%m-%d %H:%M:%S} 北京时间"


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
    # Who signed as what, for people: the role by field (鉴定人, 司法鉴定专用章, 承办人员（主办公估师）, 公估机构印章,
    # 文档时间戳 — signing.signers.field_role_title), the person (certificate CN without the demo mark), their
    # licence number (subject serialNumber, the 执业证号) and organisation (subject O).
    role: str | None = None
    person: str | None = None
    licence_no: str | None = None
    organisation: str | None = None
    # Whether O is the institution (or firm) that issues the document, as its embedded case file names it;
    # None without a case file, and for document timestamps (a TSA is nobody's staff).
    own_organisation: bool | None = None

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
                return beijing(value).isoformat()  # Beijing time, +08:00: people read these
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
