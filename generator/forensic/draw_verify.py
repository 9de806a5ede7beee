"""Verifying a draw record: everything it claims re-computed from its inputs, each discrepancy a problem
with its JSON path (empty = verified)."""

from __future__ import annotations

from typing import Any

from generator.forensic.draw_eligibility import (
    Objection,
    Original,
    eligibility,
    relevant_original_scopes,
)
from generator.forensic.draw_record import (
    DIGEST_KEY,
    MALFORMED,
    METHOD,
    MIN_REDRAW_REASON_CHARS,
    RECORD_FORMAT,
    DrawRefused,
    _check_times,
    _entry_ref,
    chosen_after,
    instant,
    nfc,
    record_digest,
)
from generator.forensic.draw_seed import (
    commitment,
    list_hash,
    public_value,
    seed,
    shuffle,
)
from generator.forensic.roster import RosterError, snapshot_from_dict
from generator.problems import Problem


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
