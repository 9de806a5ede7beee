"""The inputs of one section of a case file, generated from the case model (gongu/web/form_fields.py), and
the problems of `gongu validate` shown beside them.

Every input's `name` is the JSON path of its field (`$.policy.items[0].sum_insured`), so a Problem's path
finds its input; its id is derived from the path (`f-policy-items-0-sum_insured`). A problem is shown at
the input whose path it names, or at the nearest rendered ancestor (the fieldset of a list or object, e.g.
`$.policy.items` 至少需要一项, or a row). Inputs never carry `required`: a draft may be saved incomplete,
and the save's validation names what is missing. Case text is hostile: everything goes through markupsafe.

Never rendered: `schema_version`, `kind`, `case_id`, `reviews`, `issuances` (the workspace sets them), and
a key the model does not define (a misspelt key): its 未定义的字段 problem shows at the enclosing fieldset,
and saving the section drops it — the fix the problem asks for.
Layout classes for the stylesheet: `field` (+ `field-invalid`, `field-<kind>`), `field-label`,
`field-error`, `group` (an object's fieldset), `rows` (a list), `row` (one record's fieldset),
`rows-table` (short flat records, one <tr> each; every <td> has `data-label` and a `cell-label` <label>,
so narrow screens can stack the cells), `row-ops`, `rows-add`, `rows-empty`, `required` (the * mark).

Parsing a submitted form back and the row buttons are in gongu/web/form_parse.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup

from generator.problems import Problem
from gongu.web.form_fields import FieldSpec, case_model, field_spec, fields_of, is_compact, section_keys
from gongu.web.form_parse import KEEP, apply_row_op, parse_section

__all__ = ["apply_row_op", "input_id", "parse_section", "section_fields"]

_TIMESTAMP = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(?::(\d{2}))?")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_REQUIRED = Markup('<abbr class="required" title="必填">*</abbr>')


def input_id(path: str) -> str:
    """`$.policy.items[0].sum_insured` → `f-policy-items-0-sum_insured` (keys are snake_case, so unique)."""
    return "f" + re.sub(r"[^A-Za-z0-9_]+", "-", path[1:]).rstrip("-")


def section_fields(kind: str, keys: tuple[str, ...], data: dict[str, Any], problems: Sequence[Problem], *,
                   readonly: bool = False) -> Markup:
    """The inputs for the top-level keys `keys` of a case of `kind`, filled from the raw case dict `data`.
    No <form> and no submit button: the page supplies them. Keys the workspace sets are not rendered."""
    model = case_model(kind)
    out = _Renderer(problems, readonly)
    parts = [out.node(field_spec(model, key), f"$.{key}", data.get(key)) for key in section_keys(model, keys)]
    return Markup("\n").join(parts)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith((prefix + ".", prefix + "["))


def _shown(value: Any) -> str:
    """The value as `gongu validate` prints it (gongu/output.py): JSON for non-text, cut at 60 characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "…"


def _text(value: Any) -> str:
    """A stored scalar as an input's text: JSON words for bools, nothing for null, str() otherwise."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


class _Renderer:
    def __init__(self, problems: Sequence[Problem], readonly: bool) -> None:
        self.problems = list(problems)
        self.claimed: set[int] = set()
        self.readonly = readonly

    # ── problems ──
    def _claim(self, path: str, *, exact: bool = False) -> list[Problem]:
        """The problems at `path` (and, for an input or a container, under it) not shown deeper already."""
        found = []
        for i, p in enumerate(self.problems):
            if i not in self.claimed and (p.path == path if exact else _under(p.path, path)):
                self.claimed.add(i)
                found.append(p)
        return found

    @staticmethod
    def _errors(found: list[Problem], err_id: str) -> Markup:
        if not found:
            return Markup("")
        lines = []
        for p in found:
            value = Markup("") if p.value is None else Markup(' <span class="problem-value">值：<bdi>{}</bdi></span>').format(_shown(p.value))
            lines.append(Markup('<span class="problem">{}{}</span>').format(p.message, value))
        return Markup('<div class="field-error" id="{}" role="alert">{}</div>').format(err_id, Markup("<br>").join(lines))

    # ── any field ──
    def node(self, spec: FieldSpec, path: str, value: Any, *, cell: bool = False) -> Markup:
        if spec.kind == "object":
            return self._object(spec, path, value)
        if spec.kind == "rows":
            return self._rows(spec, path, value)
        return self._scalar(spec, path, value, cell=cell)

    def _legend(self, spec: FieldSpec, title: str | None = None) -> Markup:
        return Markup("<legend>{}{}</legend>").format(title or spec.title, _REQUIRED if spec.required else "")

    def _keep(self, path: str, value: Any) -> Markup:
        """An empty list / object the file has: named so parse_section writes it back (form_parse KEEP)."""
        if self.readonly or value not in ([], {}) or isinstance(value, (str, bool)):
            return Markup("")
        return Markup('<input type="hidden" name="{}" value="{}">').format(KEEP, path)

    def _object(self, spec: FieldSpec, path: str, value: Any) -> Markup:
        assert spec.model is not None
        data = value if isinstance(value, Mapping) else {}
        inner = self._keep(path, value) + self._members(spec.model, path, data)
        fid = input_id(path)
        errors = self._errors(self._claim(path), fid + "-err")
        return Markup('<fieldset class="group" id="{}">{}{}{}</fieldset>').format(fid, self._legend(spec), errors, inner)

    def _members(self, model: Any, path: str, data: Mapping[str, Any]) -> Markup:
        return Markup("").join(self.node(s, f"{path}.{s.key}", data.get(s.key)) for s in fields_of(model))

    # ── lists of records ──
    def _rows(self, spec: FieldSpec, path: str, value: Any) -> Markup:
        assert spec.model is not None
        rows = value if isinstance(value, list) else []
        compact = is_compact(spec.model)
        body = (self._table(spec, path, rows) if compact and rows else
                Markup("").join(self._row_fieldset(spec, path, i, row, len(rows)) for i, row in enumerate(rows)))
        fid = input_id(path)
        errors = self._errors(self._claim(path), fid + "-err")
        add = Markup("") if self.readonly else Markup(
            '<div class="rows-add"><button type="submit" name="_op" value="add:{}" formnovalidate>添加一行</button></div>'
        ).format(path)
        empty = Markup("")
        if not rows:
            empty = Markup('<p class="rows-empty">（无）</p>') + (
                self._stated_none(path, value) if spec.stated_none else self._keep(path, value))
        return Markup('<fieldset class="rows" id="{}">{}{}{}{}{}</fieldset>').format(
            fid, self._legend(spec), errors, body, empty, add)

    def _stated_none(self, path: str, value: Any) -> Markup:
        """「经核实没有」: ticked, the form writes [] for the list (a finding), unticked it leaves the key out."""
        fid = input_id(path) + "-none"
        return Markup('<label class="rows-none" for="{}"><input type="checkbox" id="{}" name="{}" value="{}"{}{}>'
                      " 经核实没有（写明“无”）</label>").format(
            fid, fid, KEEP, path, Markup(" checked") if value == [] else "", Markup(" disabled") if self.readonly else "")

    def _ops(self, path: str, index: int, count: int) -> Markup:
        if self.readonly:
            return Markup("")
        row = f"{path}[{index}]"
        button = Markup('<button type="submit" name="_op" value="{}:{}" formnovalidate{}>{}</button>')
        return Markup('<div class="row-ops">{}{}{}</div>').format(
            button.format("up", row, Markup(" disabled") if index == 0 else "", "上移"),
            button.format("down", row, Markup(" disabled") if index == count - 1 else "", "下移"),
            button.format("remove", row, "", "删除"))

    def _row_fieldset(self, spec: FieldSpec, path: str, index: int, row: Any, count: int) -> Markup:
        rpath = f"{path}[{index}]"
        data = row if isinstance(row, Mapping) else {}
        inner = self._members(spec.model, rpath, data)
        rid = input_id(rpath)
        errors = self._errors(self._claim(rpath), rid + "-err")
        legend = Markup("<legend>{} 第 {} 行</legend>").format(spec.title, index + 1)
        return Markup('<fieldset class="row" id="{}">{}{}{}{}</fieldset>').format(
            rid, legend, errors, inner, self._ops(path, index, count))

    def _table(self, spec: FieldSpec, path: str, rows: list[Any]) -> Markup:
        """Short flat records (measurements, signatures, confirmations …): one table row each. Every cell
        keeps its own <label> (class cell-label) so the stylesheet can stack the cells on a phone."""
        specs = fields_of(spec.model)
        head = Markup("").join(Markup("<th scope=\"col\">{}{}</th>").format(s.title, _REQUIRED if s.required else "")
                               for s in specs)
        ops_head = Markup("") if self.readonly else Markup('<th scope="col">操作</th>')
        body = []
        for i, row in enumerate(rows):
            rpath = f"{path}[{i}]"
            data = row if isinstance(row, Mapping) else {}
            cells = Markup("").join(
                Markup('<td data-label="{}">{}</td>').format(s.title, self._scalar(s, f"{rpath}.{s.key}", data.get(s.key), cell=True))
                for s in specs)
            rid = input_id(rpath)
            errors = self._errors(self._claim(rpath), rid + "-err")
            ops = Markup("") if self.readonly else Markup('<td class="row-ops-cell">{}</td>').format(self._ops(path, i, len(rows)))
            body.append(Markup('<tr id="{}"><th scope="row">{}{}</th>{}{}</tr>').format(rid, i + 1, errors, cells, ops))
        return Markup('<table class="rows-table"><thead><tr><th scope="col">#</th>{}{}</tr></thead><tbody>{}</tbody></table>').format(
            head, ops_head, Markup("").join(body))

    # ── one input ──
    def _scalar(self, spec: FieldSpec, path: str, value: Any, *, cell: bool = False) -> Markup:
        fid = input_id(path)
        found = self._claim(path)
        err_id = fid + "-err"
        attrs = Markup('id="{}" name="{}"').format(fid, path)
        if found:
            attrs += Markup(' aria-invalid="true" aria-describedby="{}"').format(err_id)
        if spec.required:
            attrs += Markup(' aria-required="true"')
        if self.readonly:
            attrs += Markup(" disabled")
        control = self._control(spec, path, value, attrs)
        label_class = "cell-label" if cell else "field-label"
        label = Markup('<label class="{}" for="{}">{}{}</label>').format(label_class, fid, spec.title,
                                                                        _REQUIRED if spec.required else "")
        classes = "field field-invalid" if found else "field"
        return Markup('<div class="{} field-{}">{}{}{}</div>').format(classes, spec.kind, label, control,
                                                                     self._errors(found, err_id))

    def _control(self, spec: FieldSpec, path: str, value: Any, attrs: Markup) -> Markup:
        # A <textarea>'s content starts with a line break, which HTML drops: a value's own leading break stays.
        text = _text(value)
        kind = spec.kind
        if kind in ("flag", "choice"):
            return self._select(spec, value, attrs)
        if kind == "lines":
            items = value if isinstance(value, list) else ([] if value is None else [value])
            return self._keep(path, value) + Markup('<textarea {} rows="3">\n{}</textarea>').format(attrs, "\n".join(_text(v) for v in items))
        if kind == "textarea" or "\n" in text:
            return Markup('<textarea {} rows="4">\n{}</textarea>').format(attrs, text)
        if kind == "timestamp" and (text == "" or _TIMESTAMP.fullmatch(text)):
            # To the second (step=1), empty or not: a policy period ends at 23:59:59, which an input stepping
            # by minutes neither offers nor lets the form submit (a step mismatch fails its validation).
            return Markup('<input type="datetime-local" step="1" {} value="{}">').format(attrs, text)
        if kind == "date" and (text == "" or _DAY.fullmatch(text)):
            return Markup('<input type="date" {} value="{}">').format(attrs, text)
        if kind == "decimal":
            return Markup('<input type="text" inputmode="decimal" {} value="{}">').format(attrs, text)
        if kind == "int" and (text == "" or re.fullmatch(r"-?\d+", text)):
            return Markup('<input type="number" step="1" {} value="{}">').format(attrs, text)
        # Text, and any stored value the typed input could not hold (e.g. a time with a zone offset): as written.
        return Markup('<input type="text" {} value="{}">').format(attrs, text)

    def _select(self, spec: FieldSpec, value: Any, attrs: Markup) -> Markup:
        choices = list(spec.choices) if spec.kind == "choice" else [("true", "是"), ("false", "否")]
        current = _text(value)
        options = []
        if not spec.required or current == "":
            options.append(("", "未填"))
        options += choices
        if current and current not in {v for v, _ in choices}:
            options.append((current, f"{current}（无效值）"))  # kept so it round-trips and its problem reads well
        html = Markup("").join(
            Markup('<option value="{}"{}>{}</option>').format(v, Markup(" selected") if v == current else "", t)
            for v, t in options)
        return Markup("<select {}>{}</select>").format(attrs, html)
