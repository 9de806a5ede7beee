"""The public check page, `/v/<code>`: anyone holding an issued document (an insurer, a court, a claimant)
asks whether it is the document issued and whether it is still current — without an account.

It shows what the catalog records for the code (archive/check_codes.py): number, kind, issuer, Beijing
issue date, pages, the sealed file's SHA-256 and the status; never a party, an insured, a claimant or a
被鉴定人 — not even the report's title, which may name them. An uploaded PDF is compared with the record:
byte-for-byte (SHA-256), else whether the issued file is the start of it (the issued document with later
incremental changes) and whether its signatures verify (signing/verify.py). The upload is read into
memory up to `[web] check_upload_mib` and never written anywhere.

A miss (unknown or malformed code, or any path under /v/) answers 404 after the same work as a hit — the
rate count, the four catalog statements of `lookup`, a "web" event in the log, the same template — and every
answer is held to
CHECK_FLOOR_SECONDS, so timing tells nothing about which codes exist. Requests are counted per client and
minute in the catalog (`[web] check_requests_per_minute`, shared by every web process like the login
limit); over it → 429, logged once per window so a flood cannot flood the log."""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from archive.check_codes import CodeRecord, count_request, lookup
from generator.check_code import grouped, normalize_check_code
from gongu.web.access import csrf_ok
from gongu.web.render import render
from gongu.web.state import web_archive, web_settings
from gongu.web.trail import client_of

# Every answer of the page takes at least this long: above the work of a hit on a busy catalog, so a hit
# and a miss cannot be told apart by the clock.
CHECK_FLOOR_SECONDS = 0.35
ACTOR = "公开校验页"  # the log's actor for requests without an account
MIB = 1024 * 1024
# Room for the multipart envelope (boundaries, headers, the CSRF field) around the file itself.
FORM_OVERHEAD = 64 * 1024


async def check(request: Request) -> Response:
    started = time.perf_counter()
    typed = str(request.path_params.get("code", ""))
    # counted before anything else, an upload's body included: a refused client costs one statement
    if await run_in_threadpool(_over_limit, request):
        limit = web_settings(request).web.check_requests_per_minute
        response = render(request, "check.html", {"record": None, "refused": True, "limit": limit}, status=429)
        response.headers["retry-after"] = "60"
    elif request.method == "POST":
        response = await _upload(request, typed)
    else:
        response = await run_in_threadpool(_answer, request, typed, None)
    pause = CHECK_FLOOR_SECONDS - (time.perf_counter() - started)
    if pause > 0:
        await asyncio.sleep(pause)
    return response


def _over_limit(request: Request) -> bool:
    """Count this request of its client; True when over `[web] check_requests_per_minute`. The first
    refusal of a window is logged, not each one after it (a flood must not fill the log)."""
    archive = web_archive(request)
    cat = archive.catalog
    client = client_of(request)
    limit = web_settings(request).web.check_requests_per_minute
    events = []
    with cat.write():
        now = archive.now()
        count = count_request(cat, client, now, limit)
        if count == limit + 1:
            events.append(cat.append_event("web", now, ACTOR, None, None, {
                "action": "check_rate_limited", "client": client, "limit": limit}))
    archive.committed(events)
    return count > limit


def _logged_lookup(request: Request, typed: str, action: str, extra: dict[str, Any]) -> CodeRecord | None:
    """Look the code up and log the lookup (code, outcome, client — nothing personal), in one transaction."""
    archive = web_archive(request)
    cat = archive.catalog
    canonical = normalize_check_code(typed)
    with cat.write():
        record = lookup(cat, canonical or typed)
        outcome = "found" if record is not None else ("unknown" if canonical else "malformed")
        details: dict[str, Any] = {"action": action, "client": client_of(request), "code": canonical,
                                   "outcome": outcome, **extra}
        if record is not None:
            details["status"] = record.status
        event = cat.append_event("web", archive.now(), ACTOR, record.case_id if record else None,
                                 record.report_number if record else None, details)
    archive.committed([event])
    return record


def _answer(request: Request, typed: str, upload: dict[str, Any] | None, error: str | None = None,
            extra: dict[str, Any] | None = None) -> Response:
    action = "check_upload" if upload is not None or error is not None else "check_code"
    record = _logged_lookup(request, typed, action, extra or {})
    if record is None:
        return render(request, "check.html", {"record": None, "typed": typed}, status=404)
    result = compare_upload(upload["data"], record, request) if upload is not None else None
    return render(request, "check.html", {"record": record, "grouped": grouped(record.code), "result": result,
                                          "error": error, "limit_mib": web_settings(request).web.check_upload_mib},
                  status=400 if error else 200)


# ─────────────────────────────────────────────── the upload ───────────────────────────────────────────────


async def _upload(request: Request, typed: str) -> Response:
    limit = web_settings(request).web.check_upload_mib * MIB
    declared = request.headers.get("content-length")
    too_big = f"文件超过 {limit // MIB} MiB 上限，未核对（未保存任何内容）"
    if declared is not None and declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
        return await run_in_threadpool(_answer, request, typed, None, too_big, {"refused": "size"})
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit + FORM_OVERHEAD:  # a body without a Content-Length, or a wrong one
            return await run_in_threadpool(_answer, request, typed, None, too_big, {"refused": "size"})
    fields = _form_in_memory(request.headers.get("content-type", ""), bytes(body))
    del body
    if fields is None:
        return await run_in_threadpool(_answer, request, typed, None, "请求不是文件上传表单", {"refused": "form"})
    if not csrf_ok(request, {"csrf_token": fields.get("csrf_token", b"").decode("ascii", "replace")}):
        return render(request, "error.html", {"title": "无权访问",
                                              "message": "表单已过期或缺少安全令牌（CSRF），请刷新本页后重试"}, status=403)
    data = fields.get("file", b"")
    if not data:
        return await run_in_threadpool(_answer, request, typed, None, "未选择文件", {"refused": "empty"})
    if len(data) > limit:
        return await run_in_threadpool(_answer, request, typed, None, too_big, {"refused": "size"})
    if b"%PDF-" not in data[:1024]:  # ISO 32000 §7.5.2: the header within the first 1024 bytes
        return await run_in_threadpool(_answer, request, typed, None, "上传的文件不是 PDF 文件，未核对（未保存任何内容）",
                                       {"refused": "not_pdf"})
    return await run_in_threadpool(_answer, request, typed, {"data": data}, None, {"bytes": len(data)})


def _form_in_memory(content_type: str, body: bytes) -> dict[str, bytes] | None:
    """The fields of a multipart/form-data body, parsed in memory (Starlette's own parser spools files
    over 1 MiB to a temporary file: nothing of an upload is written here). None when it is not one."""
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        return None
    fields: dict[str, bytes] = {}
    state: dict[str, Any] = {"name": None, "header": b"", "data": bytearray(), "headers": {}}

    def on_part_begin() -> None:
        state["headers"], state["data"] = {}, bytearray()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["header"] = data[start:end].lower()

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["headers"][state["header"]] = state["headers"].get(state["header"], b"") + data[start:end]

    def on_part_data(data: bytes, start: int, end: int) -> None:
        state["data"] += data[start:end]

    def on_part_end() -> None:
        _, disposition = parse_options_header(state["headers"].get(b"content-disposition", b""))
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        if name in ("file", "csrf_token") and name not in fields:
            fields[name] = bytes(state["data"])

    parser = MultipartParser(boundary, {"on_part_begin": on_part_begin, "on_header_field": on_header_field,
                                        "on_header_value": on_header_value, "on_part_data": on_part_data,
                                        "on_part_end": on_part_end})
    try:
        parser.write(body)
        parser.finalize()
    except Exception:  # a malformed body: not a form we can read  # noqa: BLE001
        return None
    return fields


def compare_upload(data: bytes, record: CodeRecord, request: Request) -> dict[str, Any]:
    """What the page says about an uploaded PDF against the record of the code.

    - `match`: its SHA-256 is the issued file's — it is the document issued, byte for byte.
    - `extends`: the issued file's bytes are the start of it: the issued document with changes appended
      after it (an incremental update). The issued revision and its signatures are intact inside; the
      appended part is not what was issued. A PDF signature signs a prefix of the file, so this is also
      the one way a signature in the upload can cover the issued revision.
    - otherwise the issued file is not inside it: whatever its signatures say, they do not sign the
      document issued (a copy saved again by another program is rewritten and is not it).
    Signatures are checked with the firm's trust roots (signing/verify.py), never stored."""
    digest = hashlib.sha256(data).hexdigest()
    if digest == record.sha256:
        return {"verdict": "match", "sha256": digest}
    # the issued file's size is known when the package holds it (a superseded original named only by a
    # later package's case file has its hash alone: no prefix can be checked)
    extends = (record.size is not None and len(data) > record.size
               and hashlib.sha256(data[:record.size]).hexdigest() == record.sha256)
    return {"verdict": "extends" if extends else "different", "sha256": digest,
            "signatures": _signatures(data, request)}


def _signatures(data: bytes, request: Request) -> dict[str, Any]:
    from signing.status import VerifyError
    from signing.verify import verify_pdf

    config = web_settings(request).signing_config()
    roots = list(config.trust_roots) if config is not None else []
    crls = list(config.crls) if config is not None else []
    try:
        report = verify_pdf(data, roots, crls=crls)
    except VerifyError as exc:
        return {"readable": False, "problem": str(exc), "items": []}
    # the role and organisation of each signature, not the person: the page names no one
    items = [{"role": s.role or s.kind, "organisation": s.organisation, "ok": s.intact and s.valid and s.trusted
              and s.docmdp_ok is not False, "intact": s.intact, "valid": s.valid, "trusted": s.trusted,
              "problems": list(s.problems)} for s in report.signatures]
    return {"readable": True, "items": items, "ok": bool(items) and all(i["ok"] for i in items),
            "problems": list(report.problems)}
