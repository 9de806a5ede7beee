"""A verifiable random draw of the appraisal institution (Sichuan 二(三) 公平随机, 二(四)).

Pure functions, no I/O and no clock: every time is an input. The method follows RFC 3797 (publicly
verifiable nominations committee random selection): the list is fixed and published first, the random
value comes from a public source named before its result is known, and anyone can redo the selection
from the record — with SHA-256 instead of RFC 3797's MD5. docs/draw.md explains it to a lawyer.

Exact definitions (docs/draw.md repeats them in Chinese):

- Text is Unicode NFC, encoded UTF-8. The canonical order of institutions: by licence number, then name,
  comparing code points.
- Eligible-list hash = SHA-256 of the text
  "gongu-draw-list/1\\n" followed by one line per eligible institution, "<licence_no>\\t<name>\\n".
- Commitment to a secret = SHA-256(b"gongu-draw-commit/1" ‖ UTF-8 secret), hex.
- Public value: the published numbers as RFC 3797 writes them, decimal without leading zeros, each
  followed by "." and the whole by "/": 3 7 12 19 25 31 9 → "3.7.12.19.25.31.9./".
- Seed = SHA-256 of the concatenation of these netstrings (`<byte length in decimal>:<bytes>,`,
  D. J. Bernstein's format, so that no field can run into the next), in this order:
  "gongu-draw/1", the list hash (64 lowercase hex), the case id, the public source's name, its issue,
  the public value, the number of revealed secrets (decimal), then for each secret sorted by the
  party's name: the party's name, the secret.
- Random stream: block k (k = 0, 1, 2, …) = SHA-256 of the ASCII text "<seed hex>:<k>"; the stream is
  block 0 ‖ block 1 ‖ …, read as successive 32-bit big-endian numbers u (8 hex digits each).
- A number in 0 … m-1: take the next u; if u < 2^32 − (2^32 mod m) the result is u mod m, otherwise
  u is discarded and the next one taken (rejection: every result equally likely, no modulo bias).
- Order: start with the eligible list in canonical order; while more than one institution remains,
  draw j in 0 … (remaining − 1) and move the j-th remaining institution (counting from 0) to the end
  of the order; the last one left comes last. (Fisher and Yates' original striking-out method.)
- The first in the order is chosen; a decline or recusal (a recorded event with its reason) passes the
  choice to the next in the order — never a new draw.
- Record digest (`record_digest`) = SHA-256 of the record without this key, as compact JSON with sorted
  keys and unescaped characters. It covers what the draw does not compute from — case name, matters,
  the roster's source, who declared, every time — so that no field changes after a step unnoticed;
  `gongu draw log` writes it into the archive's tamper-evident log, which binds it for good.
- A re-draw (`redraw`: the SHA-256 of the record it replaces and the reason) is the only second draw
  the log takes for a case.
"""

from __future__ import annotations

import copy
import hashlib
import json
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from generator import limits
from generator.forensic.roster import RosterEntry, RosterError, RosterSnapshot, snapshot_from_dict
from generator.problems import Problem

RECORD_FORMAT = "gongu-draw-record/1"
DOMAIN_TAG = "gongu-draw/1"
LIST_TAG = "gongu-draw-list/1"
COMMIT_TAG = b"gongu-draw-commit/1"
MIN_SECRET_CHARS = 16  # a short secret could be guessed from its commitment
BEIJING = ZoneInfo("Asia/Shanghai")
MALFORMED = "抽取记录结构"  # the title of the one problem verify_record gives for a record it cannot read
DIGEST_KEY = "record_digest"
MIN_REDRAW_REASON_CHARS = 4

# The scope (业务范围) a matter needs: every matter of an insurance claim is 法医临床 work.
MATTER_SCOPES: dict[str, str] = {
    "disability_grade": "法医临床鉴定",
    "lost_work_period": "法医临床鉴定",
    "care_period": "法医临床鉴定",
    "nutrition_period": "法医临床鉴定",
    "injury_degree": "法医临床鉴定",
    "causation": "法医临床鉴定",
}

# The exclusion rules, each with the clause it comes from.
RULES: dict[str, tuple[str, str]] = {
    "scope": ("业务范围不涵盖鉴定事项", "Sichuan 二(三)；通则 Art 15"),
    "conflict": ("当事人声明的利害关系", "通则 Art 20"),
    "recusal": ("当事人申请回避", "通则 Art 20–21"),
    "reappraisal_original": ("重新鉴定不得由原鉴定机构进行", "通则 Art 32；Sichuan 二(四)"),
    "reappraisal_qualification": ("资质条件低于原鉴定机构", "通则 Art 32；Sichuan 二(四)"),
    "reappraisal_senior": ("没有高级专业技术职称的鉴定人", "通则 Art 32；Sichuan 二(四)"),
}


# Written into every record so that it explains itself without the software (format /1 fixes the method).
METHOD: dict[str, str] = {
    "model": "RFC 3797（可公开验证的随机选择），以 SHA-256 代替 MD5；详见 docs/draw.md",
    "text": "文字一律 Unicode NFC、UTF-8 编码；机构按许可证号、再按名称的码位顺序排列",
    "list_hash": "SHA-256(\"gongu-draw-list/1\\n\" + 每家一行 \"许可证号\\t名称\\n\")",
    "commitment": "SHA-256(\"gongu-draw-commit/1\" ‖ 秘密值)",
    "public_value": "开奖号码去前导零，各加 \".\"，末尾加 \"/\"（RFC 3797 第 4 节）",
    "seed": "SHA-256(依次连接的 netstring \"字节数:内容,\"：gongu-draw/1、名单哈希、案件编号、来源、期号、号码串、秘密值个数、按当事人名称排序的（当事人, 秘密值）)",
    "stream": "第 k 块 = SHA-256(\"<种子十六进制>:<k>\")，k = 0, 1, …；每 4 字节（大端）为一个随机数 u",
    "sampling": "在 0…m-1 中取数：u < 2^32 − (2^32 mod m) 时取 u mod m，否则弃用 u 取下一个",
    "order": "剩余 m ≥ 2 家时取 j，把剩余名单第 j 家（从 0 数）移到顺序末尾；最后一家排最后（Fisher–Yates 原始方法）",
    "chosen": "顺序第一家选定；拒绝受理或回避时由下一家顶替，不重新抽取",
}


class DrawRefused(Exception):
    """A step of the draw that may not happen; the message says why and cites the clause."""


class RecordUnreadable(Exception):
    """The bytes are no readable draw record: the message says why, `problems` where (JSON paths)."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


def parse_record(raw: bytes, source: str) -> dict[str, Any]:
    """A draw record's bytes read under the case file's limits (generator/limits.py: size, nesting,
    number length, string length, duplicate keys refused); RecordUnreadable otherwise."""
    if len(raw) > limits.MAX_FILE_BYTES:
        raise RecordUnreadable(f"抽取记录 {source} 超过 {limits.MAX_FILE_BYTES // (1024 * 1024)} MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordUnreadable(f"抽取记录 {source} 不是 UTF-8 编码（第 {exc.start} 字节）") from None
    data, problems = limits.parse_limited(text, lambda loc: "抽取记录", parse_int=limits.read_whole_number)
    if problems:
        first = "；".join(f"{p.path} {p.message}" for p in problems[:3])
        raise RecordUnreadable(f"抽取记录 {source} 无法读取：{first}", problems)
    if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
        raise RecordUnreadable(f"{source} 不是抽取记录（format 应为 {RECORD_FORMAT}）")
    return data


def record_digest(record: dict[str, Any]) -> str:
    """SHA-256 of the record without its digest: compact JSON, keys sorted, characters unescaped."""
    body = {k: v for k, v in record.items() if k != DIGEST_KEY}
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sealed(record: dict[str, Any]) -> dict[str, Any]:
    """The record as a step writes it: its times in order (else refused, as verify would) and its digest."""
    late: list[str] = []
    _check_times(record, lambda path, title, message, value=None: late.append(f"{path} {title}{message}（{value}）"))
    if late:
        raise DrawRefused("时间顺序不对：" + "；".join(late))
    record[DIGEST_KEY] = record_digest(record)
    return record


def _intact(record: dict[str, Any]) -> None:
    """A step works only on a record as the previous step left it."""
    if record.get(DIGEST_KEY) != record_digest(record):
        raise DrawRefused("抽取记录在上一步之后被改动过（记录摘要 record_digest 不符），不能继续；请用原记录")


def redraw_of(previous_raw: bytes, reason: str) -> dict[str, str]:
    """The `redraw` entry of a record replacing an earlier one: its file's SHA-256 and why."""
    if len(reason.strip()) < MIN_REDRAW_REASON_CHARS:
        raise DrawRefused(f"重新抽取须写明理由（至少 {MIN_REDRAW_REASON_CHARS} 个字符）")
    return {"replaces": hashlib.sha256(previous_raw).hexdigest(), "reason": nfc(reason.strip())}


@dataclass(frozen=True)
class Objection:
    """A declared conflict of interest or a recusal request against one institution (通则 Art 20–21)."""

    licence_no: str
    declared_by: str
    reason: str
    kind: str = "conflict"  # or "recusal"

    def as_dict(self) -> dict[str, str]:
        return {"licence_no": self.licence_no, "declared_by": self.declared_by, "reason": self.reason, "kind": self.kind}


@dataclass(frozen=True)
class Original:
    """The institution whose opinion a re-appraisal re-examines."""

    licence_no: str
    name: str
    scopes: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"licence_no": self.licence_no, "name": self.name, "scopes": list(self.scopes)}


@dataclass
class Eligibility:
    eligible: list[RosterEntry]
    exclusions: list[dict[str, str]] = field(default_factory=list)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def instant(text: str) -> datetime:
    """An ISO 8601 time; without an offset it is Beijing time. ValueError when unreadable."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=BEIJING)


# ─────────────────────────────────────── eligibility ─────────────────────────────────────────


def scope_category(scope: str) -> str:
    """The category a scope belongs to: the 法医类 scopes form one, any other scope is its own."""
    return "法医类" if scope.startswith("法医") else scope


def relevant_original_scopes(original: Original, required_scopes: Sequence[str]) -> list[str]:
    """"Qualification not lower than the original's" (通则 Art 32, Sichuan 二(四)), made concrete: the
    new institution holds every scope the original held in the categories of the matters (e.g. all of
    the original's 法医类 scopes for a 法医临床 matter). A reasonable default: the rules name no measure;
    a firm that needs another one states it in the draw record's `reappraisal`."""
    categories = {scope_category(s) for s in required_scopes}
    return sorted({s for s in original.scopes if scope_category(s) in categories})


def _exclusion(entry: RosterEntry, rule: str, detail: str) -> dict[str, str]:
    title, clause = RULES[rule]
    return {"licence_no": entry.licence_no, "name": entry.name, "rule": rule, "clause": clause,
            "reason": f"{title}：{detail}"}


def eligibility(
    entries: Sequence[RosterEntry],
    required_scopes: Sequence[str],
    objections: Sequence[Objection] = (),
    original: Original | None = None,
) -> Eligibility:
    """Who may be drawn; every excluded institution listed once per rule it fails, with the reason.
    An objection naming a licence that is not in the roster is refused (a typo must not pass silently)."""
    required_scopes = [nfc(s) for s in required_scopes]  # the roster's text is NFC; so is the comparison
    known = {e.licence_no for e in entries}
    for o in objections:
        if o.licence_no not in known:
            raise DrawRefused(f"回避或利害关系声明所指的许可证号 {o.licence_no} 不在名册中")
        if o.kind not in ("conflict", "recusal"):
            raise DrawRefused(f"未知的声明类别 {o.kind}（应为 conflict 或 recusal）")
    relevant = relevant_original_scopes(original, required_scopes) if original else []
    result = Eligibility(eligible=[])
    for entry in sorted(entries, key=lambda e: e.sort_key):
        reasons: list[dict[str, str]] = []
        missing = [s for s in required_scopes if s not in entry.scopes]
        if missing:
            reasons.append(_exclusion(entry, "scope", f"缺少 {'、'.join(missing)}"))
        for o in objections:
            if o.licence_no == entry.licence_no:
                reasons.append(_exclusion(entry, o.kind, f"{o.declared_by}：{o.reason}"))
        if original is not None:
            if entry.licence_no == original.licence_no:
                reasons.append(_exclusion(entry, "reappraisal_original", f"原鉴定机构 {original.name}"))
            lacking = [s for s in relevant if s not in entry.scopes]
            if lacking:
                reasons.append(_exclusion(entry, "reappraisal_qualification", f"原鉴定机构具有而本机构没有：{'、'.join(lacking)}"))
            if not entry.senior_appraisers:
                reasons.append(_exclusion(entry, "reappraisal_senior", "名册未列出具有高级专业技术职称的鉴定人"))
        if reasons:
            result.exclusions.extend(reasons)
        else:
            result.eligible.append(entry)
    return result


def refuse_empty(result: Eligibility) -> None:
    """No draw from an empty list: say which rules emptied it, with their clauses."""
    if result.eligible:
        return
    clauses = sorted({f"{RULES[x['rule']][0]}（{x['clause']}）" for x in result.exclusions})
    raise DrawRefused("没有符合条件的鉴定机构，不能抽取；排除依据：" + "；".join(clauses))


# ───────────────────────────────────── hashes and values ─────────────────────────────────────


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


# ─────────────────────────────────── the record, step by step ────────────────────────────────


def _entry_ref(e: RosterEntry | dict[str, str]) -> dict[str, str]:
    return {"licence_no": e.licence_no, "name": e.name} if isinstance(e, RosterEntry) else {"licence_no": e["licence_no"], "name": e["name"]}


def new_record(
    *,
    case_id: str,
    case_name: str,
    matters: list[dict[str, str]],
    required_scopes: Sequence[str],
    roster: RosterSnapshot,
    sides: Sequence[str],
    prepared_at: str,
    objections: Sequence[Objection] = (),
    original: Original | None = None,
    redraw: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The draw record at its first step: roster snapshot, exclusions, the eligible list and its hash.
    `redraw` (from redraw_of) when it replaces an earlier record of the case."""
    if len(set(map(nfc, sides))) < 2:
        raise DrawRefused("双方都须确认名单：至少需要两个不同的当事人（Sichuan 二(三)）")
    result = eligibility(roster.entries, required_scopes, objections, original)
    refuse_empty(result)
    return _sealed({
        "format": RECORD_FORMAT,
        "method": METHOD,
        "redraw": redraw,
        "case_id": case_id,
        "case_name": case_name,
        "matters": matters,
        "required_scopes": list(required_scopes),
        "reappraisal": None if original is None else {
            "original": original.as_dict(),
            "relevant_scopes": relevant_original_scopes(original, required_scopes),
            "rule": "新机构须具有原机构在鉴定事项所属类别中的全部业务范围，且至少一名高级职称鉴定人",
        },
        "prepared_at": prepared_at,
        "roster": roster.as_dict(),
        "objections": [o.as_dict() for o in objections],
        "exclusions": result.exclusions,
        "eligible": [_entry_ref(e) for e in result.eligible],
        "list_hash": list_hash(result.eligible),
        "sides": list(sides),
        "acknowledgements": [],
        "declaration": None,
        "commitments": [],
        "reveals": [],
        "result": None,
        "seed": None,
        "order": [],
        "drawn_at": None,
        "declines": [],
        "chosen": None,
    })


def _copy(record: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(record)


def _side(record: dict[str, Any], party: str) -> str:
    match = next((s for s in record["sides"] if nfc(s) == nfc(party)), None)
    if match is None:
        raise DrawRefused(f"{party} 不是本次抽取的当事人（{'、'.join(record['sides'])}）")
    return match


def acknowledge(record: dict[str, Any], party: str, acknowledged_hash: str, at: str) -> dict[str, Any]:
    """One side confirms the eligible list by its hash; a different hash is refused."""
    _intact(record)
    side = _side(record, party)
    if record["declaration"] is not None:
        raise DrawRefused("公开随机值来源已经指定，名单确认必须在此之前")
    if acknowledged_hash.strip().lower() != record["list_hash"]:
        raise DrawRefused(f"{side} 确认的名单哈希 {acknowledged_hash} 与名单哈希 {record['list_hash']} 不一致")
    out = _copy(record)
    out["acknowledgements"] = [a for a in out["acknowledgements"] if a["party"] != side]
    out["acknowledgements"].append({"party": side, "at": at, "list_hash": record["list_hash"]})
    return _sealed(out)


def declare(record: dict[str, Any], source: str, issue: str, at: str, declared_by: str = "") -> dict[str, Any]:
    """Name the public value before it is known: which source (e.g. a lottery) and which future issue."""
    _intact(record)
    missing = [s for s in record["sides"] if s not in {a["party"] for a in record["acknowledgements"]}]
    if missing:
        raise DrawRefused(f"名单尚未经 {'、'.join(missing)} 确认，不能指定随机值来源")
    if record["declaration"] is not None:
        raise DrawRefused("随机值来源已经指定，不能更改")
    if not source.strip() or not issue.strip():
        raise DrawRefused("须写明公开随机值的来源名称和期号")
    if any(instant(a["at"]) > instant(at) for a in record["acknowledgements"]):
        raise DrawRefused("指定随机值来源的时间早于名单确认时间：名单必须先确认")
    out = _copy(record)
    out["declaration"] = {"source": nfc(source.strip()), "issue": nfc(issue.strip()), "declared_at": at, "declared_by": declared_by}
    return _sealed(out)


def commit(record: dict[str, Any], party: str, commitment_hex: str, at: str) -> dict[str, Any]:
    _intact(record)
    side = _side(record, party)
    if record["result"] is not None:
        raise DrawRefused("公开随机值已经录入，不能再提交承诺")
    if record["reveals"]:
        raise DrawRefused("已有当事人公开了秘密值，不能再提交承诺")
    value = commitment_hex.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise DrawRefused("承诺值应为 64 位十六进制 SHA-256 值")
    out = _copy(record)
    out["commitments"] = [c for c in out["commitments"] if c["party"] != side]
    out["commitments"].append({"party": side, "commitment": value, "committed_at": at})
    return _sealed(out)


def reveal(record: dict[str, Any], party: str, secret: str, at: str) -> dict[str, Any]:
    _intact(record)
    side = _side(record, party)
    promised = next((c for c in record["commitments"] if c["party"] == side), None)
    if promised is None:
        raise DrawRefused(f"{side} 没有提交过承诺值")
    if len(secret) < MIN_SECRET_CHARS:
        raise DrawRefused(f"秘密值至少 {MIN_SECRET_CHARS} 个字符")
    if commitment(secret) != promised["commitment"]:
        raise DrawRefused(f"{side} 公开的秘密值与其承诺值不符")
    out = _copy(record)
    out["reveals"] = [r for r in out["reveals"] if r["party"] != side]
    out["reveals"].append({"party": side, "secret": nfc(secret), "revealed_at": at})
    return _sealed(out)


def compute_order(record: dict[str, Any], numbers: Sequence[int]) -> tuple[str, list[dict[str, str]]]:
    """(seed, order) from the record's inputs and the published numbers."""
    decl = record["declaration"]
    secrets = {r["party"]: r["secret"] for r in record["reveals"]}
    seed_hex = seed(record["case_id"], record["list_hash"], decl["source"], decl["issue"], numbers, secrets)
    eligible = sorted(record["eligible"], key=lambda e: (nfc(e["licence_no"]), nfc(e["name"])))
    return seed_hex, [_entry_ref(e) for e in shuffle(eligible, seed_hex)]


def run(record: dict[str, Any], numbers: Sequence[int], published_at: str, at: str) -> dict[str, Any]:
    """Enter the published value and draw: refused when the value was published before it was named,
    or a commitment was not revealed."""
    _intact(record)
    decl = record["declaration"]
    if decl is None:
        raise DrawRefused("尚未事先指定公开随机值的来源和期号")
    if record["result"] is not None:
        raise DrawRefused("已经抽取过；抽取结果不能重做，只能依次顺延（拒绝或回避）")
    if not numbers:
        raise DrawRefused("公开随机值为空")
    if instant(published_at) <= instant(decl["declared_at"]):
        raise DrawRefused(f"公开随机值公布于 {published_at}，早于或等于指定来源的时间 {decl['declared_at']}：必须事先指定、事后公布")
    for c in record["commitments"]:
        if instant(c["committed_at"]) >= instant(published_at):
            raise DrawRefused(f"{c['party']} 的承诺值提交于公开随机值公布之后，不能使用")
    revealed = {r["party"] for r in record["reveals"]}
    missing = [c["party"] for c in record["commitments"] if c["party"] not in revealed]
    if missing:
        raise DrawRefused(f"{'、'.join(missing)} 尚未公开秘密值，不能抽取")
    if instant(at) < instant(published_at):
        raise DrawRefused("抽取时间早于公开随机值公布时间")
    out = _copy(record)
    out["result"] = {"numbers": [int(n) for n in numbers], "value": public_value(numbers), "published_at": published_at}
    out["seed"], out["order"] = compute_order(out, numbers)
    out["drawn_at"] = at
    out["chosen"] = out["order"][0]
    return _sealed(out)


def chosen_after(order: Sequence[dict[str, str]], declines: Sequence[dict[str, str]]) -> dict[str, str] | None:
    """The first in the order that has not declined or recused; None when all have."""
    gone = {d["licence_no"] for d in declines}
    return next((dict(o) for o in order if o["licence_no"] not in gone), None)


def decline(record: dict[str, Any], licence_no: str, reason: str, at: str, kind: str = "declined") -> dict[str, Any]:
    """The chosen institution declines (or must recuse): the next in the order is chosen, never a redraw."""
    _intact(record)
    if record["result"] is None or record["chosen"] is None:
        raise DrawRefused("没有被选中的机构可以拒绝或回避")
    if kind not in ("declined", "recused"):
        raise DrawRefused("类别应为 declined（拒绝受理）或 recused（回避）")
    if licence_no != record["chosen"]["licence_no"]:
        raise DrawRefused(f"只有当前选中的机构（{record['chosen']['name']}，{record['chosen']['licence_no']}）可以拒绝或回避")
    if not reason.strip():
        raise DrawRefused("须写明拒绝或回避的理由")
    if instant(at) < instant(record["drawn_at"]):
        raise DrawRefused("拒绝或回避的时间早于抽取时间")
    out = _copy(record)
    out["declines"].append({"licence_no": licence_no, "name": record["chosen"]["name"], "kind": kind, "reason": reason, "at": at})
    out["chosen"] = chosen_after(out["order"], out["declines"])
    return _sealed(out)


# ────────────────────────────────────── verification ─────────────────────────────────────────


def _objections(record: dict[str, Any]) -> list[Objection]:
    return [Objection(o["licence_no"], o["declared_by"], o["reason"], o.get("kind", "conflict")) for o in record.get("objections") or []]


def _original(record: dict[str, Any]) -> Original | None:
    re_ = record.get("reappraisal")
    if not re_:
        return None
    o = re_["original"]
    return Original(o["licence_no"], o["name"], tuple(o["scopes"]))


def verify_record(record: Any) -> list[Problem]:
    """Re-compute everything the record claims from its inputs; every discrepancy found (empty = verified)."""
    try:
        return _verify(record)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return [Problem("$", MALFORMED, f"记录不完整或格式不对：{exc!r}", None)]


def _check_redraw(redraw: Any, bad: Any) -> None:
    if redraw is None:
        return
    replaces, reason = redraw.get("replaces"), redraw.get("reason")
    if not (isinstance(replaces, str) and len(replaces) == 64 and all(c in "0123456789abcdef" for c in replaces)):
        bad("$.redraw.replaces", "被取代的抽取记录", "应为被取代记录文件的 SHA-256（64 位小写十六进制）", replaces)
    if not (isinstance(reason, str) and len(reason.strip()) >= MIN_REDRAW_REASON_CHARS):
        bad("$.redraw.reason", "重新抽取理由", f"须写明理由（至少 {MIN_REDRAW_REASON_CHARS} 个字符）", reason)


def _check_unique(record: dict[str, Any], bad: Any) -> None:
    """One acknowledgement, one commitment and one reveal per party: a second entry would go unchecked."""
    for key, title in (("acknowledgements", "名单确认"), ("commitments", "承诺值"), ("reveals", "公开秘密值")):
        seen: set[str] = set()
        for i, entry in enumerate(record[key]):
            party = nfc(str(entry["party"]))
            if party in seen:
                bad(f"$.{key}[{i}].party", title, "同一当事人出现两次", entry["party"])
            seen.add(party)


def _check_times(record: dict[str, Any], bad: Any) -> None:
    """The record's times in the order of its steps: roster import ≤ prepared ≤ acknowledgements ≤
    declaration; prepared ≤ commitments < publication ≤ draw; commitments ≤ reveals ≤ draw ≤ declines;
    each list in the order it was written."""
    prepared = instant(record["prepared_at"])
    imported = record["roster"].get("imported_at")
    if isinstance(imported, str) and instant(imported) > prepared:
        bad("$.roster.imported_at", "名册导入时间", "晚于名单生成时间", imported)
    decl = record["declaration"]
    if decl is not None and instant(decl["declared_at"]) < prepared:
        bad("$.declaration.declared_at", "指定来源时间", "早于名单生成时间", decl["declared_at"])
    drawn = instant(record["drawn_at"]) if record["drawn_at"] else None
    for key, field_, title in (("acknowledgements", "at", "确认时间"), ("commitments", "committed_at", "承诺时间"),
                               ("reveals", "revealed_at", "公开时间"), ("declines", "at", "拒绝或回避时间")):
        times = [instant(e[field_]) for e in record[key]]
        for i, t in enumerate(times):
            if i and t < times[i - 1]:
                bad(f"$.{key}[{i}].{field_}", title, "早于前一条记录的时间：记录应按发生顺序", record[key][i][field_])
            if key in ("acknowledgements", "commitments") and t < prepared:
                bad(f"$.{key}[{i}].{field_}", title, "早于名单生成时间", record[key][i][field_])
            if key == "reveals" and drawn is not None and t > drawn:
                bad(f"$.{key}[{i}].{field_}", title, "晚于抽取时间", record[key][i][field_])


# The shape of a record: each key and the JSON type it must have (None allowed where the step is pending).
SHAPE: dict[str, tuple[type, ...]] = {
    "case_id": (str,), "required_scopes": (list,), "prepared_at": (str,), "roster": (dict,), "objections": (list,),
    "exclusions": (list,), "eligible": (list,), "list_hash": (str,), "sides": (list,), "acknowledgements": (list,),
    "declaration": (dict, type(None)), "commitments": (list,), "reveals": (list,), "result": (dict, type(None)),
    "seed": (str, type(None)), "order": (list,), "drawn_at": (str, type(None)), "declines": (list,),
    "chosen": (dict, type(None)), "reappraisal": (dict, type(None)), "redraw": (dict, type(None)),
    "case_name": (str,), "matters": (list,), DIGEST_KEY: (str,),
}


def _verify(record: dict[str, Any]) -> list[Problem]:
    out: list[Problem] = []
    if not isinstance(record, dict):
        return [Problem("$", MALFORMED, "抽取记录应为 JSON 对象", None)]
    shape = [Problem(f"$.{key}", MALFORMED, "缺少此项或类型不对", record.get(key))
             for key, types in SHAPE.items() if not isinstance(record.get(key, ...), types)]
    if shape:
        return shape

    def bad(path: str, title: str, message: str, value: Any = None) -> None:
        out.append(Problem(path, title, message, value))

    if record.get("format") != RECORD_FORMAT:
        bad("$.format", "记录格式", f"应为 {RECORD_FORMAT}", record.get("format"))
        return out
    if record.get("method") != METHOD:
        bad("$.method", "计算方法说明", f"与 {RECORD_FORMAT} 规定的方法说明不同", None)
    digest = record_digest(record)
    if record[DIGEST_KEY] != digest:
        bad(f"$.{DIGEST_KEY}", "记录摘要", f"记录在最后一步之后被改动过：按全部字段重算得 {digest}", record[DIGEST_KEY])
    _check_redraw(record["redraw"], bad)
    _check_unique(record, bad)
    try:
        roster = snapshot_from_dict(record["roster"])
    except RosterError as exc:
        return [Problem(f"$.roster{p.path.removeprefix('$')}", p.title, p.message, p.value) for p in exc.problems]
    if roster.sha256 != record["roster"].get("sha256"):
        bad("$.roster.sha256", "名册哈希", f"名册条目重算得 {roster.sha256}", record["roster"].get("sha256"))
    original = _original(record)
    if original is not None:
        relevant = relevant_original_scopes(original, record["required_scopes"])
        if relevant != record["reappraisal"].get("relevant_scopes"):
            bad("$.reappraisal.relevant_scopes", "原机构相关业务范围", f"重算得 {relevant}", record["reappraisal"].get("relevant_scopes"))
    try:
        result = eligibility(roster.entries, record["required_scopes"], _objections(record), original)
    except DrawRefused as exc:
        bad("$.objections", "回避或利害关系声明", str(exc))
        return out
    if result.exclusions != record["exclusions"]:
        bad("$.exclusions", "排除名单", "按名册和排除规则重算的排除名单不同", len(record["exclusions"]))
    eligible = [_entry_ref(e) for e in result.eligible]
    if eligible != record["eligible"]:
        bad("$.eligible", "符合条件的机构", "按名册和排除规则重算的名单不同", len(record["eligible"]))
    if not eligible:
        bad("$.eligible", "符合条件的机构", "没有符合条件的机构，不能抽取")
    expected_hash = list_hash(result.eligible)
    if record["list_hash"] != expected_hash:
        bad("$.list_hash", "名单哈希", f"重算得 {expected_hash}", record["list_hash"])
    sides = record["sides"]
    acked = {a["party"] for a in record["acknowledgements"]}
    for side in sides:
        if side not in acked:
            bad("$.acknowledgements", "名单确认", f"{side} 没有确认名单哈希", side)
    decl = record["declaration"]
    for i, a in enumerate(record["acknowledgements"]):
        if a["list_hash"] != expected_hash:
            bad(f"$.acknowledgements[{i}].list_hash", "确认的名单哈希", f"{a['party']} 确认的哈希与重算的名单哈希 {expected_hash} 不一致", a["list_hash"])
        if a["party"] not in sides:
            bad(f"$.acknowledgements[{i}].party", "确认人", "不是本次抽取的当事人", a["party"])
        if decl and instant(a["at"]) > instant(decl["declared_at"]):
            bad(f"$.acknowledgements[{i}].at", "确认时间", "名单确认晚于指定随机值来源", a["at"])
    if decl is None or record["result"] is None:
        bad("$.result", "抽取结果", "抽取尚未完成：没有指定来源或没有录入公开随机值")
        return out
    res = record["result"]
    if not res["numbers"] or not all(type(n) is int and n >= 0 for n in res["numbers"]):
        bad("$.result.numbers", "开奖号码", "应为非负整数列表", res["numbers"])
        return out
    if instant(res["published_at"]) <= instant(decl["declared_at"]):
        bad("$.result.published_at", "公布时间", f"公开随机值公布不晚于指定来源的时间 {decl['declared_at']}", res["published_at"])
    if record.get("drawn_at") is None or instant(record["drawn_at"]) < instant(res["published_at"]):
        bad("$.drawn_at", "抽取时间", "抽取时间缺失或早于公开随机值公布", record.get("drawn_at"))
    if res.get("value") != public_value(res["numbers"]):
        bad("$.result.value", "公开随机值", f"按号码重算得 {public_value(res['numbers'])}", res.get("value"))
    committed = {c["party"]: c for c in record["commitments"]}
    for i, c in enumerate(record["commitments"]):
        if instant(c["committed_at"]) >= instant(res["published_at"]):
            bad(f"$.commitments[{i}].committed_at", "承诺时间", "承诺晚于公开随机值公布", c["committed_at"])
    revealed: dict[str, str] = {}
    for i, r in enumerate(record["reveals"]):
        c = committed.get(r["party"])
        if c is None:
            bad(f"$.reveals[{i}].party", "公开秘密值的当事人", "没有对应的承诺值", r["party"])
        elif commitment(r["secret"]) != c["commitment"]:
            bad(f"$.reveals[{i}].secret", "秘密值", f"SHA-256(标签‖秘密值) 为 {commitment(r['secret'])}，与承诺值不符", r["secret"])
        if any(instant(r["revealed_at"]) < instant(x["committed_at"]) for x in record["commitments"]):
            bad(f"$.reveals[{i}].revealed_at", "公开时间", "有承诺在秘密值公开之后才提交", r["revealed_at"])
        revealed[r["party"]] = r["secret"]
    for i, c in enumerate(record["commitments"]):  # each one: a second commitment of a party is one too
        r = next((r for r in record["reveals"] if r["party"] == c["party"] and commitment(r["secret"]) == c["commitment"]), None)
        if r is None:
            bad(f"$.commitments[{i}]", "公开秘密值", f"{c['party']} 的承诺没有公开，抽取不能进行（docs/draw.md 第五节）",
                c["commitment"])
        if c["party"] not in sides:
            bad(f"$.commitments[{i}].party", "承诺人", "不是本次抽取的当事人", c["party"])
    _check_times(record, bad)
    seed_hex = seed(record["case_id"], expected_hash, decl["source"], decl["issue"], res["numbers"], revealed)
    if record["seed"] != seed_hex:
        bad("$.seed", "种子", f"重算得 {seed_hex}", record["seed"])
    order = [_entry_ref(e) for e in shuffle(eligible, seed_hex)]
    if record["order"] != order:
        bad("$.order", "抽取顺序", "重算的顺序为 " + "、".join(o["licence_no"] for o in order),
            "、".join(o.get("licence_no", "?") for o in record["order"]))
    for i, d in enumerate(record["declines"]):
        expected = chosen_after(order, record["declines"][:i])
        if expected is None or d["licence_no"] != expected["licence_no"]:
            bad(f"$.declines[{i}].licence_no", "拒绝或回避的机构", "不是当时按顺序选中的机构", d["licence_no"])
        if not str(d.get("reason", "")).strip():
            bad(f"$.declines[{i}].reason", "理由", "没有写明理由")
        if instant(d["at"]) < instant(record["drawn_at"]):
            bad(f"$.declines[{i}].at", "时间", "早于抽取时间", d["at"])
    chosen = chosen_after(order, record["declines"])
    if record["chosen"] != chosen:
        bad("$.chosen", "选定机构", f"重算得 {chosen['name'] + '（' + chosen['licence_no'] + '）' if chosen else '无（全部拒绝或回避）'}",
            (record["chosen"] or {}).get("licence_no"))
    return out
