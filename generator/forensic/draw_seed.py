"""The hashes and the random order of a draw (RFC 3797 with SHA-256; generator/forensic/draw.py gives the
exact definitions): the eligible list's hash, commitments, the public value, the seed, the random stream,
unbiased sampling and the striking-out shuffle."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import Any

from generator.forensic.draw_record import (
    nfc,
)
from generator.forensic.roster import RosterEntry

DOMAIN_TAG = "gongu-draw/1"
LIST_TAG = "gongu-draw-list/1"
COMMIT_TAG = b"gongu-draw-commit/1"


def list_text(eligible: Sequence[dict[str, str]] | Sequence[RosterEntry]) -> str:
    rows = [(e.licence_no, e.name) if isinstance(e, RosterEntry) else (e["licence_no"], e["name"]) for e in eligible]
    rows = sorted((nfc(a), nfc(b)) for a, b in rows)
    return LIST_TAG + "\n" + "".join(f"{licence}\t{name}\n" for licence, name in rows)


def list_hash(eligible: Sequence[dict[str, str]] | Sequence[RosterEntry]) -> str:
    return hashlib.sha256(list_text(eligible).encode("utf-8")).hexdigest()


def commitment(secret: str) -> str:
    return hashlib.sha256(COMMIT_TAG + nfc(secret).encode("utf-8")).hexdigest()


def public_value(numbers: Sequence[int]) -> str:
    """RFC 3797 §4: each number in decimal without leading zeros followed by ".", then "/"."""
    return "".join(f"{int(n)}." for n in numbers) + "/"


def parse_numbers(text: str) -> list[int]:
    """"03 07 12 19 25 31 + 09" → [3, 7, 12, 19, 25, 31, 9]; ValueError when nothing or non-digits."""
    parts = [p for p in text.replace("+", " ").replace(",", " ").replace("，", " ").split()]
    if not parts or not all(p.isascii() and p.isdigit() for p in parts):
        raise ValueError("公开随机值应为以空格分隔的十进制数字")
    return [int(p) for p in parts]


def netstring(value: str) -> bytes:
    data = nfc(value).encode("utf-8")
    return str(len(data)).encode("ascii") + b":" + data + b","


def seed_material(case_id: str, eligible_hash: str, source: str, issue: str, numbers: Sequence[int],
                  secrets: dict[str, str]) -> bytes:
    parts = [DOMAIN_TAG, eligible_hash, case_id, source, issue, public_value(numbers), str(len(secrets))]
    for party in sorted(secrets, key=nfc):
        parts += [party, secrets[party]]
    return b"".join(netstring(p) for p in parts)


def seed(case_id: str, eligible_hash: str, source: str, issue: str, numbers: Sequence[int], secrets: dict[str, str]) -> str:
    return hashlib.sha256(seed_material(case_id, eligible_hash, source, issue, numbers, secrets)).hexdigest()


def stream_numbers(seed_hex: str) -> Iterator[int]:
    """The 32-bit numbers of the stream: block k = SHA-256("<seed hex>:<k>"), 8 numbers per block."""
    k = 0
    while True:
        block = hashlib.sha256(f"{seed_hex}:{k}".encode("ascii")).digest()
        for i in range(0, 32, 4):
            yield int.from_bytes(block[i : i + 4], "big")
        k += 1


def uniform(numbers: Iterator[int], m: int, trace: list[dict[str, int]] | None = None) -> int:
    """A number in 0 … m-1 by rejection sampling (no modulo bias)."""
    limit = 2**32 - (2**32 % m)
    while True:
        u = next(numbers)
        accepted = u < limit
        if trace is not None:
            trace.append({"u": u, "m": m, "accepted": int(accepted), "j": u % m if accepted else -1})
        if accepted:
            return u % m


def shuffle(items: Sequence[Any], seed_hex: str, trace: list[dict[str, int]] | None = None) -> list[Any]:
    """The order: strike out the j-th of those remaining, j drawn uniformly, until one is left."""
    remaining = list(items)
    numbers = stream_numbers(seed_hex)
    order: list[Any] = []
    while len(remaining) > 1:
        order.append(remaining.pop(uniform(numbers, len(remaining), trace)))
    return order + remaining
