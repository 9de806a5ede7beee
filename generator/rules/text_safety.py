"""Text that displays differently from what it stores: bidi controls in any text of the case.

File names carrying them are refused when the case is validated (generator/integrity.py); in free text
the report shows each as a visible code (generator/text_safety.py), and this rule tells the reviewer
where they are so the text can be corrected before issue (9.3). A warning: nothing is hidden any more.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from generator.rules.rule import Miss, RuleContext, rule
from generator.text_safety import bidi_controls_in, neutralise


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")


@rule("text.bidi_controls", "9.2", "warning", "文字中不含改变显示顺序的双向控制字符")
def text_bidi_controls(ctx: RuleContext) -> Iterator[Miss]:
    for path, text in _strings(ctx.case.model_dump(mode="json", by_alias=True), "$"):
        codes = bidi_controls_in(text)
        if codes:
            yield Miss(path, f"文字含有双向控制字符 {'、'.join(codes)}，显示顺序与实际内容不同；报告中以〔U+…〕标出，请修改",
                       neutralise(text)[:200])
