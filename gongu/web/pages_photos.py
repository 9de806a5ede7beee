"""Photos and scans from a phone: several survey photos uploaded at once, each with its caption, the record it
belongs to (5.3.1) and the time taken (EXIF when the camera wrote it), then captions, records, times and
order edited in one list; a forensic case's scans (扫描件) put on its materials. The files go into the case
folder as a folder upload puts them (gongu/pipeline/photo_intake.py checks them as the quality review does),
and the case file names them in the same save (gongu/pipeline/draft_saving.py add_files)."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from archive.workspace import WorkspaceCase
from gongu.pipeline import draft_saving, drafting, workspace
from gongu.web import trail
from gongu.web.access import page
from gongu.web.need_to_know import require_case
from gongu.web.pages_cases import CASE_ROLES
from gongu.web.render import flash, render
from gongu.web.state import now, web_archive, web_settings

MAX_PHOTOS = 50  # one upload: what a phone sends in one go without the request growing past the limits
SCAN_TYPES = {b"%PDF-": ".pdf"}


def _rows(value: Any) -> list[dict[str, Any]]:
    return [r for r in value if isinstance(r, dict)] if isinstance(value, list) else []


def _context(request: Request, row: WorkspaceCase, data: dict[str, Any], errors: list[str]) -> dict[str, Any]:
    survey = data.get("survey") if isinstance(data.get("survey"), dict) else {}
    refusal = drafting.edit_refusal(row, request.state.account, drafting.named_people(data))
    return {"row": row, "errors": errors, "readonly": refusal, "forensic": row.kind == "forensic_appraisal",
            "photos": _rows(survey.get("photos")), "records": _rows(survey.get("record_items")),
            "materials": _rows(data.get("materials")),
            "base": drafting.digest(data, ("survey",) if row.kind != "forensic_appraisal" else ("materials",))}


def _case(request: Request) -> WorkspaceCase | Response:
    return require_case(request, request.path_params["case_id"])


@page("/cases/{case_id}/photos", roles=CASE_ROLES, name="case_photos")
def photos_page(request: Request) -> Response:
    row = _case(request)
    if not isinstance(row, WorkspaceCase):
        return row
    data = drafting.read_data(web_settings(request).home, row.case_id)
    return render(request, "draft_photos.html", _context(request, row, data, []))


def _next_id(rows: list[dict[str, Any]], prefix: str) -> str:
    taken = {str(r.get("id")) for r in rows}
    n = len(rows) + 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


def _uploads(request: Request, field: str) -> list[Any]:
    return [f for f in request.state.form.getlist(field) if hasattr(f, "filename") and f.filename]


@page("/cases/{case_id}/photos", methods=("POST",), roles=CASE_ROLES, name="case_photos_upload")
def upload_photos(request: Request) -> Response:
    """Several photos at once: each checked (JPEG or PNG, limits, decodable), named under photos/, and added to
    the survey's photos with its caption (the file's name when none was typed), the chosen record and the
    EXIF time. One refused photo refuses the upload: nothing is written."""
    from gongu.pipeline.photo_intake import photo_name, prepare_photo
    from gongu.pipeline.upload_staging import UploadRefused

    row = _case(request)
    if not isinstance(row, WorkspaceCase):
        return row
    home = web_settings(request).home
    form = request.state.form
    files = _uploads(request, "photos")
    captions = [str(c).strip()[:500] for c in form.getlist("captions")]
    record = str(form.get("record_item", "")).strip()
    data = drafting.read_data(home, row.case_id)
    errors: list[str] = []
    if not files:
        errors.append("请选择照片")
    elif len(files) > MAX_PHOTOS:
        errors.append(f"一次最多上传 {MAX_PHOTOS} 张照片")
    if row.kind == "forensic_appraisal":
        errors.append("司法鉴定案件请在鉴定材料中上传扫描件")
    survey = dict(data.get("survey")) if isinstance(data.get("survey"), dict) else {}
    photos = _rows(survey.get("photos"))
    records = {str(r.get("id")) for r in _rows(survey.get("record_items"))}
    if record and record not in records:
        errors.append(f"现场查勘记录中没有 {record}")
    stored: dict[str, bytes] = {}
    folder = workspace.case_folder(home, row.case_id)
    # never over a file the folder holds, named now or by an earlier version
    existing = {str(p.get("file")) for p in photos} | {p.relative_to(folder).as_posix() for p in folder.rglob("*")}
    added: list[dict[str, Any]] = []
    if not errors:
        for n, upload in enumerate(files):
            content = upload.file.read()
            try:
                prepared = prepare_photo(content, upload.filename)
            except UploadRefused as exc:
                errors += [f"{p.path}：{p.message}" for p in exc.problems]
                continue
            name = photo_name(existing | set(stored), upload.filename, prepared.extension)
            stored[name] = prepared.data
            entry: dict[str, Any] = {"id": _next_id(photos + added, "P"), "file": name,
                                     "caption": (captions[n] if n < len(captions) and captions[n]
                                                 else Path(upload.filename).stem[:200] or name)}
            if record:
                entry["record_item"] = record
            if prepared.taken_at:
                entry["taken_at"] = prepared.taken_at
            added.append(entry)
    if errors:
        return render(request, "draft_photos.html", _context(request, row, data, ["照片未上传，本案未作任何改动：", *errors]),
                      status=400)
    survey["photos"] = photos + added
    try:
        version = draft_saving.add_files(web_archive(request).catalog, home, row.case_id, stored, {"survey": survey},
                                         section_key="survey", account=request.state.account, now=now(request))
    except workspace.WorkspaceRefused as exc:
        return render(request, "draft_photos.html", _context(request, row, data, exc.reasons), status=409)
    trail.record(request, "case_photos_upload", case_id=row.case_id, files=sorted(stored), version=version)
    flash(request, f"已上传 {len(added)} 张照片（第 {version} 版），请核对说明、对应记录和拍摄时间。")
    return RedirectResponse(f"/cases/{quote(row.case_id)}/photos", status_code=303)


@page("/cases/{case_id}/photos/list", methods=("POST",), roles=CASE_ROLES, name="case_photos_save")
def save_photos(request: Request) -> Response:
    """The photo list as edited: captions, records, times, and a row moved or taken off (the file stays in the
    case folder, so restoring an earlier version brings the photo back)."""
    from gongu.web.form_parse import apply_row_op

    row = _case(request)
    if not isinstance(row, WorkspaceCase):
        return row
    home = web_settings(request).home
    form = request.state.form
    data = drafting.read_data(home, row.case_id)
    survey = dict(data.get("survey")) if isinstance(data.get("survey"), dict) else {}
    old = _rows(survey.get("photos"))
    photos: list[dict[str, Any]] = []
    for i, photo in enumerate(old):
        prefix = f"$.survey.photos[{i}]"
        if str(form.get(f"{prefix}.file", "")) != str(photo.get("file")):
            continue  # a row of another version of the list: kept as the file has it
        edited = dict(photo)
        for key, limit in (("caption", 500), ("record_item", 100), ("taken_at", 25)):
            value = str(form.get(f"{prefix}.{key}", "")).strip()[:limit]
            if key == "taken_at" and len(value) == 16:
                value += ":00"
            if value:
                edited[key] = value
            else:
                edited.pop(key, None)
        photos.append(edited)
    if len(photos) != len(old):
        photos = old  # the page was of another list: nothing it sent is applied over it
    values = {"survey": {**survey, "photos": photos}}
    op = str(form.get("_op", ""))
    if op:
        values = apply_row_op(values, op)
    try:
        saved = draft_saving.save_section(web_archive(request).catalog, home, row.case_id, "survey", values,
                                          base=str(form.get("_base", "")), account=request.state.account,
                                          now=now(request))
    except workspace.WorkspaceRefused as exc:
        return render(request, "draft_photos.html", _context(request, row, data, exc.reasons), status=409)
    if saved.version:
        trail.record(request, "case_edit", case_id=row.case_id, section="survey", version=saved.version,
                     fields=saved.paths[:50])
    flash(request, f"已保存（第 {saved.version} 版）。" if saved.version else "没有改动。")
    return RedirectResponse(f"/cases/{quote(row.case_id)}/photos", status_code=303)


@page("/cases/{case_id}/scans", methods=("POST",), roles=CASE_ROLES, name="case_scans_upload")
def upload_scans(request: Request) -> Response:
    """A forensic case's scans: one file per material (its 扫描件), a photo or a PDF, under scans/."""
    from gongu.pipeline.photo_intake import photo_name, prepare_photo
    from gongu.pipeline.upload_staging import MAX_FILE_BYTES, UploadRefused

    row = _case(request)
    if not isinstance(row, WorkspaceCase):
        return row
    home = web_settings(request).home
    data = drafting.read_data(home, row.case_id)
    materials = _rows(data.get("materials"))
    stored: dict[str, bytes] = {}
    errors: list[str] = []
    folder = workspace.case_folder(home, row.case_id)
    existing = {p.relative_to(folder).as_posix() for p in folder.rglob("*")}
    for i, material in enumerate(materials):
        [upload, *_] = _uploads(request, f"scan-{i}") or [None]
        if upload is None:
            continue
        content = upload.file.read(MAX_FILE_BYTES + 1)
        ext = next((e for magic, e in SCAN_TYPES.items() if content.startswith(magic)), None)
        if ext is None:
            try:
                ext = prepare_photo(content, upload.filename).extension
            except UploadRefused as exc:
                errors += [f"{material.get('id', i)} {p.path}：{p.message}" for p in exc.problems]
                continue
        elif len(content) > MAX_FILE_BYTES:
            errors.append(f"{upload.filename}：文件超过 {MAX_FILE_BYTES // (1 << 20)} MiB")
            continue
        name = "scans/" + photo_name(existing | set(stored), upload.filename, ext).removeprefix("photos/")
        stored[name] = content
        materials[i] = {**material, "file": name}
    if not stored and not errors:
        errors.append("请为至少一项材料选择扫描件")
    if errors:
        return render(request, "draft_photos.html", _context(request, row, data, ["扫描件未上传，本案未作任何改动：", *errors]),
                      status=400)
    try:
        version = draft_saving.add_files(web_archive(request).catalog, home, row.case_id, stored,
                                         {"materials": materials}, section_key="materials",
                                         account=request.state.account, now=now(request))
    except workspace.WorkspaceRefused as exc:
        return render(request, "draft_photos.html", _context(request, row, data, exc.reasons), status=409)
    trail.record(request, "case_scans_upload", case_id=row.case_id, files=sorted(stored), version=version)
    flash(request, f"已上传 {len(stored)} 份扫描件（第 {version} 版）。")
    return RedirectResponse(f"/cases/{quote(row.case_id)}/photos", status_code=303)


@page("/cases/{case_id}/files/{name:path}", roles=CASE_ROLES, name="case_file")
def case_file(request: Request) -> Response:
    """A photo or scan of the case folder (the thumbnails of the photo list), to the people on the case."""
    from gongu.web.need_to_know import log_read

    row = _case(request)
    if not isinstance(row, WorkspaceCase):
        return row
    folder = workspace.case_folder(web_settings(request).home, row.case_id).resolve()
    path = (folder / request.path_params["name"]).resolve()
    if not path.is_relative_to(folder) or path.name == "case.json" or not path.is_file() or any(
            part.startswith(".") for part in path.relative_to(folder).parts):
        return render(request, "error.html", {"title": "没有此文件", "message": "案件文件夹中没有此文件"}, status=404)
    if row.kind == "forensic_appraisal":
        from generator.loading import CaseFileError

        try:
            log_read(request, workspace.load(web_settings(request).home, row.case_id).case,
                     f"file {path.relative_to(folder).as_posix()}")
        except CaseFileError:
            pass
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    inline = media in ("image/jpeg", "image/png", "application/pdf")
    return FileResponse(path, media_type=media if inline else "application/octet-stream",
                        content_disposition_type="inline" if inline else "attachment")
