"""Time from outside the machine for disposal (10.4): an RFC 3161 token from the configured timestamp
authority over each disposal decision. Retention is judged on the token's time, so a system clock set
forward cannot make a package look expired; the audit re-checks every token later.

A token is stored in the event as {"message": the canonical decision, "token": base64 DER of the
TimeStampToken, "time": its genTime}; the token's message imprint is the SHA-256 of `message`."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import cms, tsp

from archive.catalog import canonical
from archive.errors import ArchiveError

# Given the SHA-256 digest of a message, returns the DER of a TimeStampToken (cms.ContentInfo).
Timestamper = Callable[[bytes], bytes]


class TimestampError(ArchiveError):
    """The timestamp authority did not answer, or a token does not fit its decision."""


@dataclass(frozen=True)
class TokenCheck:
    time: datetime | None  # the TSA's genTime when the token is readable
    problems: tuple[str, ...]  # empty: intact, signed and over this very message


def http_timestamper(url: str, *, timeout: int = 10) -> Timestamper:
    """An RFC 3161 client over HTTP (pyHanko's, as sealing uses)."""
    from pyhanko.sign.timestamps.aiohttp_client import HTTPTimeStamper
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError

    def stamp(digest: bytes) -> bytes:
        async def ask() -> bytes:
            stamper = HTTPTimeStamper(url, timeout=timeout)
            try:
                return (await stamper.async_timestamp(digest, "sha256")).dump()
            finally:
                session = getattr(stamper, "_session", None)
                if session is not None and hasattr(session, "close"):
                    await session.close()
        try:
            return asyncio.run(ask())
        except (TimestampRequestError, OSError, ValueError) as exc:
            raise TimestampError(f"无法从时间戳服务 {url} 取得时间戳，销毁未进行：{exc}") from None
        except Exception as exc:  # noqa: BLE001 — aiohttp's connection errors: one plain message, nothing decided
            raise TimestampError(f"无法连接时间戳服务 {url}，销毁未进行：{type(exc).__name__} {exc}") from None
    return stamp


def stamp_decision(timestamper: Timestamper, decision: dict[str, Any],
                   roots: list[Any] | tuple[Any, ...] = ()) -> dict[str, Any]:
    """A token over the canonical decision, checked at once (a TSA answering for another message or
    without a readable time is refused before anything is decided)."""
    message = canonical(decision)
    der = timestamper(hashlib.sha256(message.encode()).digest())
    record = {"message": message, "token": base64.b64encode(der).decode(), "time": ""}
    check = check_token(record, roots)
    if check.problems or check.time is None:
        raise TimestampError("时间戳服务返回的时间戳无效：" + "；".join(check.problems))
    record["time"] = check.time.isoformat()
    return record


def check_token(record: dict[str, Any], roots: list[Any] | tuple[Any, ...] = ()) -> TokenCheck:
    """Is the token intact, validly signed (by a TSA chaining to `roots`, when given) and over the SHA-256
    of `message`? Its genTime is returned whatever the answer, for the report."""
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko_certvalidator import ValidationContext

    try:
        info = cms.ContentInfo.load(base64.b64decode(str(record.get("token", "")), validate=True))
        signed = info["content"]
        tst = signed["encap_content_info"]["content"].parsed
        if not isinstance(tst, tsp.TSTInfo):
            return TokenCheck(None, ("时间戳不含 TSTInfo",))
        time: datetime = tst["gen_time"].native
    except (ValueError, KeyError, TypeError) as exc:
        return TokenCheck(None, (f"时间戳无法解析：{exc}",))
    problems = []
    digest = hashlib.sha256(str(record.get("message", "")).encode()).digest()
    if tst["message_imprint"]["hashed_message"].native != digest:
        problems.append("时间戳的消息摘要与所记录的决定不符")
    if record.get("time") and record["time"] != time.isoformat():
        problems.append(f"记录的时间 {record['time']} 与时间戳的时间 {time.isoformat()} 不符")
    # never the operating system's trust list: the configured roots, or none (then only intact and valid)
    context = ValidationContext(trust_roots=list(roots), allow_fetching=False)
    try:
        status = asyncio.run(validate_tst_signed_data(signed, context, lambda _algo: digest))
        if not (status.get("intact") and status.get("valid")):
            problems.append("时间戳签名无效")
        elif roots and status.get("trust_problem_indic") is not None:
            problems.append(f"时间戳服务的证书不受信任（{status.get('trust_problem_indic')}）")
    except Exception as exc:  # noqa: BLE001 — pyHanko raises several kinds for a broken token: all mean "invalid"
        problems.append(f"时间戳签名无法核验：{exc}")
    return TokenCheck(time, tuple(problems))

