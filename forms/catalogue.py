"""Domain data shipped with the forms: the Appendix C claim-document catalogue (5.3.3)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def appendix_c() -> dict[str, Any]:
    """The seven groups and every item of the code's Appendix C, each item with a code like 'C3.5'."""
    text = resources.files("forms").joinpath("appendix_c.json").read_text(encoding="utf-8")
    return json.loads(text)


@cache
def appendix_c_items() -> dict[str, str]:
    """code → item name, e.g. 'C4.1' → '气象证明、水文资料或地震监测资料'."""
    return {item["code"]: item["name"] for group in appendix_c()["groups"] for item in group["items"]}
