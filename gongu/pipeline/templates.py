"""Which templates a render uses — the one place `gongu render`, `gongu issue` and `issue_case` ask, so the
report a firm previews is the report it issues, seals and archives.

The `--templates` option wins; otherwise `[render] templates` in gongu.toml (relative to GONGU_HOME);
otherwise the bundled templates (None).
"""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape

from gongu.output import GonguError
from gongu.settings import Settings


def configured_templates(settings: Settings) -> Path | None:
    """`[render] templates` of gongu.toml, resolved against GONGU_HOME; None when unset."""
    raw = settings.render.templates
    return settings.resolve(raw) if raw else None


def firm_templates(settings: Settings, option: Path | None = None) -> Path | None:
    """The templates folder for a render: `option`, else the configured one; a folder that does not exist
    is an error (exit 2), never a silent fall-back to the bundled templates."""
    chosen = option if option is not None else configured_templates(settings)
    if chosen is not None and not chosen.is_dir():
        source = "--templates" if option is not None else "gongu.toml [render] templates"
        raise GonguError(escape(f"模板目录不存在（{source}）：{chosen}（templates folder not found）"))
    return chosen
