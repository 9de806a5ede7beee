"""The report document → HTML through Jinja2 templates (autoescaped), with firm overrides.

Templates and CSS ship in `forms/templates` and `forms/styles`. A firm's folder (``--templates DIR`` or
``[render] templates`` in gongu.toml) comes first in the loader, so it can replace any template, and it
may hold `report.css` (replaces ours), `firm.css` (added after ours, e.g. CSS variables for colours),
`logo.png|svg|jpg` and `seal.png|svg` — no code change needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError

import forms
from generator.adjust import Adjustment
from generator.loading import LoadedCase
from generator.photos import PhotoError, print_copy
from generator.render_safety import RenderError, resolve_case_file
from generator.report_content import ReportDocument, Table, build_report, set_attachment_pages
from generator.report_layout import ColumnFit, fit_columns, keep_tail, nobreak_html
from generator.text_safety import neutralise

FORMS_DIR = Path(forms.__file__).resolve().parent
TEMPLATES_DIR = FORMS_DIR / "templates"
STYLES_DIR = FORMS_DIR / "styles"


def gongu_version() -> str:
    try:
        return metadata.version("gongu")
    except metadata.PackageNotFoundError:  # running from a source tree without install
        return "0+unknown"


# Print copies are served from memory under this (never a real file: a fetcher without them refuses it).
PRINT_COPY_URL = "file:///gongu-print-copies/{index}{ext}"


@dataclass(frozen=True)
class ReportPhoto:
    """One survey photo as the report shows it: a print copy (generator/photos.py), or why it cannot be shown."""

    data: bytes | None = None
    mime: str | None = None
    url: str | None = None
    problem: str | None = None  # e.g. 照片文件缺失 (file not found)
    missing: bool = False  # the file is not there at all (the marker says 照片文件缺失)


@dataclass(frozen=True)
class HtmlReport:
    html: str
    base_url: str  # the case folder: relative references resolve there
    roots: list[Path]  # folders the URL fetcher may read
    doc: ReportDocument
    photos: dict[str, ReportPhoto] = field(default_factory=dict)  # by the photo id shown in `doc`
    # 「校验码：…」 of an issued document (generator/render_codes.py): also printed on the bound attachment pages.
    check_line: str | None = None

    @property
    def resources(self) -> dict[str, tuple[bytes, str]]:
        """URL → (bytes, MIME) the URL fetcher serves from memory: the photos' print copies."""
        return {p.url: (p.data, p.mime) for p in self.photos.values() if p.url and p.data and p.mime}


def prepare_photos(loaded: LoadedCase) -> dict[str, ReportPhoto]:
    """5.3.1 d: each photo's print copy (resized, re-encoded, orientation applied), or the reason it has
    none — shown in the report, never silently left out (`gongu check` blocks it before issue). Hostile
    paths are refused here, before any rendering."""
    case_dir = loaded.source.parent.resolve()
    out: dict[str, ReportPhoto] = {}
    for index, photo in enumerate(loaded.case.survey.photos):
        path = resolve_case_file(case_dir, photo.file, f"照片 {photo.id} 的文件")
        key = neutralise(photo.id)  # the id as the report document shows it
        if not path.is_file():
            out[key] = ReportPhoto(problem="照片文件缺失", missing=True)
            continue
        try:
            data, mime = print_copy(path)
        except PhotoError as exc:
            out[key] = ReportPhoto(problem=str(exc))
            continue
        ext = ".png" if mime == "image/png" else ".jpg"
        out[key] = ReportPhoto(data=data, mime=mime, url=PRINT_COPY_URL.format(index=index, ext=ext))
    return out


def fit_table(b: Table) -> ColumnFit:
    """Column widths for a data table such that no amount, date or identifier has to break."""
    weights = b.widths or [1] * len(b.header[0])
    rows = [*b.header, *(r for i, r in enumerate(b.rows) if i not in b.group_rows), *b.footer]
    return fit_columns(rows, weights)


def environment(templates: Path | None) -> Environment:
    loaders = [FileSystemLoader(str(templates))] if templates else []
    loaders.append(FileSystemLoader(str(TEMPLATES_DIR)))
    env = Environment(loader=ChoiceLoader(loaders), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.globals["kind"] = lambda block: type(block).__name__
    env.globals["fit_table"] = fit_table
    env.globals["keep_tail"] = keep_tail
    env.filters["nb"] = nobreak_html  # amounts, dates, identifiers never break (forms/styles/report.css .nb)
    return env


def _firm_asset(templates: Path | None, stem: str, suffixes: tuple[str, ...]) -> Path | None:
    if templates is None:
        return None
    for suffix in suffixes:
        candidate = templates / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate.resolve()
    return None


def check_templates_dir(templates: Path | None) -> Path | None:
    if templates is None:
        return None
    if not templates.is_dir():
        raise RenderError(f"模板目录不存在：{templates} (templates folder not found)")
    return templates.resolve()


def build_html(loaded: LoadedCase, adj: Adjustment, templates: Path | None = None,
               attachment_pages: dict[int, tuple[int, str]] | None = None, page_total: int | None = None) -> HtmlReport:
    """`attachment_pages` and `page_total`: when attachment PDFs are bound after the report
    (generator/pdf_binding.py), their place in the 附件清单 and the footer's 「共 Y 页」 counting them."""
    templates = check_templates_dir(templates)
    case = loaded.case
    case_dir = loaded.source.parent.resolve()
    doc = build_report(case, adj, gongu_version())
    if attachment_pages:
        set_attachment_pages(doc, attachment_pages)

    photos = prepare_photos(loaded)

    stylesheets = [(_firm_asset(templates, "report", (".css",)) or STYLES_DIR / "report.css").as_uri()]
    firm_css = _firm_asset(templates, "firm", (".css",))
    if firm_css:
        stylesheets.append(firm_css.as_uri())
    logo = _firm_asset(templates, "logo", (".png", ".svg", ".jpg"))
    seal = _firm_asset(templates, "seal", (".png", ".svg"))
    issued = case.report.issued_on
    try:
        html = environment(templates).get_template("report.html").render(
            doc=doc, report_photos=photos, stylesheets=stylesheets,
            logo_src=logo.as_uri() if logo else None, seal_src=seal.as_uri() if seal else None,
            generator=f"Gongu {gongu_version()}", page_total=page_total,
            # Dates come from the case (report date, Beijing time), never the clock: same input, same PDF.
            created=f"{issued.isoformat()}T00:00:00+08:00",
        )
    except TemplateError as exc:
        raise RenderError(f"模板错误：{exc}") from None
    roots = [case_dir, FORMS_DIR] + ([templates] if templates else [])
    return HtmlReport(html=html, base_url=case_dir.as_uri() + "/", roots=roots, doc=doc, photos=photos)
