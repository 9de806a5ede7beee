"""Settings: data root from GONGU_HOME (default ./gongu-data) and an optional gongu.toml there.
Secrets (key passphrases) never come from here — only the environment or a prompt."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Settings:
    home: Path
    config: dict[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> dict[str, Any]:
        value = self.config.get(name, {})
        return value if isinstance(value, dict) else {}

    def path(self, key: str, default: str, section: str = "paths") -> Path:
        raw = self.section(section).get(key, default)
        p = Path(str(raw)).expanduser()
        return p if p.is_absolute() else self.home / p


def load_settings(home: str | Path | None = None) -> Settings:
    root = Path(home or os.environ.get("GONGU_HOME") or "gongu-data").expanduser().resolve()
    config_file = root / "gongu.toml"
    config: dict[str, Any] = {}
    if config_file.is_file():
        with config_file.open("rb") as fh:
            config = tomllib.load(fh)
    return Settings(home=root, config=config)
