"""Clause codes as a reader names them. The rules, time limits, queue steps and draw exclusions store
short codes ("通则 Art 13", "通则 Art 20–21", "Sichuan 二(三)", "5.3.1"); the CLI may print them as they
are, the pages show the documents' titles: 《司法鉴定程序通则》第十三条, 川司鉴协〔2022〕7号 二(三).
The CAR code's numbered clauses ("4.4", "9.3") are already what a handler reads and stay unchanged."""

from __future__ import annotations

import re

from generator.report_blocks import cn_number

# 司法部令第132号; the Sichuan opinion is 川司鉴协〔2022〕7号 (/work/shared/reference/四川省涉保司法鉴定实施意见-2022.txt).
PROCEDURE_RULES = "《司法鉴定程序通则》"
SICHUAN_OPINION = "川司鉴协〔2022〕7号"

_ARTICLES = re.compile(r"^通则\s+Arts?\s+(.+)$")
_SICHUAN = re.compile(r"^Sichuan\s+(.+)$")
_RANGE = re.compile(r"^(\d+)\s*[–—-]\s*(\d+)$")


def _article(n: str) -> str:
    return f"第{cn_number(int(n))}条"


def _articles(spec: str) -> str | None:
    """"13" → 第十三条; "13, 28" or "16/28" → 第十三条、第二十八条; "20–21" → 第二十条至第二十一条."""
    parts = []
    for piece in re.split(r"\s*[,，、/]\s*", spec.strip()):
        span = _RANGE.match(piece)
        if span:
            parts.append(f"{_article(span[1])}至{_article(span[2])}")
        elif piece.isdigit():
            parts.append(_article(piece))
        else:
            return None
    return "、".join(parts)


def _one(code: str) -> str:
    code = code.strip()
    if m := _ARTICLES.match(code):
        articles = _articles(m[1])
        return PROCEDURE_RULES + articles if articles else code
    if m := _SICHUAN.match(code):
        return f"{SICHUAN_OPINION} {m[1]}"
    return code


def clause_label(code: object) -> str:
    """The title of a stored clause code, for display; a code it does not know is returned unchanged.
    Several codes joined by 「；」 (or ";") are each named: "Sichuan 二(三)；通则 Art 15" →
    "川司鉴协〔2022〕7号 二(三)；《司法鉴定程序通则》第十五条"."""
    text = "" if code is None else str(code)
    return "；".join(_one(part) for part in re.split(r"\s*[；;]\s*", text))


_CODE_IN_TEXT = re.compile(r"通则 Arts? \d+(?:\s*[–—-]\s*\d+)?(?:\s*[,/]\s*\d+(?:\s*[–—-]\s*\d+)?)*"
                           r"|Sichuan [一二三四五六七八九十]+(?:\([一二三四五六七八九十]+\))*")


def clauses_in(text: object) -> str:
    """A message that cites clauses by code (a refusal's "[通则 Art 35] …", a job's failure) with each code
    named as clause_label names it."""
    return _CODE_IN_TEXT.sub(lambda m: clause_label(m[0]), "" if text is None else str(text))
