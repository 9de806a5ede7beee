"""The draw record step by step: prepare (roster, exclusions, eligible list), acknowledge the list's hash,
declare the public source, commit, reveal, run the draw, and pass the choice on a decline or recusal.
Every step checks the record is as the previous one left it and seals it again."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from generator.forensic.draw_eligibility import (
    Objection,
    Original,
    eligibility,
    refuse_empty,
    relevant_original_scopes,
)
from generator.forensic.draw_record import (
    METHOD,
    RECORD_FORMAT,
    DrawRefused,
    _entry_ref,
    _intact,
    _sealed,
    chosen_after,
    instant,
    nfc,
)
from generator.forensic.draw_seed import (
    commitment,
    list_hash,
    public_value,
    seed,
    shuffle,
)
from generator.forensic.roster import RosterSnapshot

MIN_SECRET_CHARS = 16  # a short secret could be guessed from its commitment


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
