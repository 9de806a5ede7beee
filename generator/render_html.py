"""The report document → HTML through Jinja2 templates (autoescaped), with firm overrides.

Templates and CSS ship in `forms/templates` and `forms/styles`. A firm's folder (``--templates DIR`` or
``[render] templates`` in gongu.toml) comes first in the loader, so it can replace any template, and it
may hold `report.css` (replaces ours), `firm.css` (added after ours, e.g. CSS variables for colours),
`logo.png|svg|jpg` and `seal.png|svg` — no code change needed (issue 3 §6).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError

import forms
from generator.adjust import Adjustment
from generator.loading import LoadedCase
from generator.render_safety import RenderError, resolve_case_file
from generator.report_content import ReportDocument, build_report

FORMS_DIR = Path(forms.__file__).resolve().parent
TEMPLATES_DIR = FORMS_DIR / "templates"
STYLES_DIR = FORMS_DIR / "styles"


def gongu_version() -> str:
    try:
        return metadata.version("gongu")
    except metadata.PackageNotFoundError:  # running from a source tree without install
        return "0+unknown"


@dataclass(frozen=True)
class HtmlReport:
    html: str
    base_url: str  # the case folder: relative references resolve there
    roots: list[Path]  # folders the URL fetcher may read
    doc: ReportDocument


def environment(templates: Path | None) -> Environment:
    loaders = [FileSystemLoader(str(templates))] if templates else []
    loaders.append(FileSystemLoader(str(TEMPLATES_DIR)))
    env = Environment(loader=ChoiceLoader(loaders), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.globals["kind"] = lambda block: type(block).__name__
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


def build_html(loaded: LoadedCase, adj: Adjustment, templates: Path | None = None) -> HtmlReport:
    templates = check_templates_dir(templates)
    case = loaded.case
    case_dir = loaded.source.parent.resolve()
    doc = build_report(case, adj, gongu_version())

    # 5.3.1 d: photos live in the case folder; hostile paths are refused here, before any rendering.
    photo_src: dict[str, str | None] = {}
    for photo in case.survey.photos:
        path = resolve_case_file(case_dir, photo.file, f"照片 {photo.id} 的文件")
        photo_src[photo.id] = path.as_uri() if path.is_file() else None  # missing → 「照片文件缺失」

    stylesheets = [(_firm_asset(templates, "report", (".css",)) or STYLES_DIR / "report.css").as_uri()]
    firm_css = _firm_asset(templates, "firm", (".css",))
    if firm_css:
        stylesheets.append(firm_css.as_uri())
    logo = _firm_asset(templates, "logo", (".png", ".svg", ".jpg"))
    seal = _firm_asset(templates, "seal", (".png", ".svg"))
    issued = case.report.issued_on
    try:
        html = environment(templates).get_template("report.html").render(
            doc=doc, photo_src=photo_src, stylesheets=stylesheets,
            logo_src=logo.as_uri() if logo else None, seal_src=seal.as_uri() if seal else None,
            generator=f"Gongu {gongu_version()}",
            # Dates come from the case (report date, Beijing time), never the clock: same input, same PDF.
            created=f"{issued.isoformat()}T00:00:00+08:00",
        )
    except TemplateError as exc:
        raise RenderError(f"模板错误：{exc}") from None
    roots = [case_dir, FORMS_DIR] + ([templates] if templates else [])
    return HtmlReport(html=html, base_url=case_dir.as_uri() + "/", roots=roots, doc=doc)
