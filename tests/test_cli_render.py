"""`gongu render` (gongu/cli/render.py): several cases in parallel, per-file errors with exit code 2,
firm templates from --templates or gongu.toml."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from gongu.cli.app import app
from gongu.cli.render import default_templates, parse_formats
from gongu.output import GonguError
from gongu.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
SLOPE = ROOT / "examples" / "slope-collapse" / "case.json"
TUNNEL = ROOT / "examples" / "tunnel-inrush" / "case.json"
runner = CliRunner()


def report_number(case_file: Path) -> str:
    return json.loads(case_file.read_text(encoding="utf-8"))["report"]["number"]


def test_two_cases_in_parallel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGU_HOME", str(tmp_path / "home"))
    result = runner.invoke(app, ["render", str(SLOPE), str(TUNNEL), "--jobs", "2", "--format", "pdf"])
    assert result.exit_code == 0, result.output
    reports = tmp_path / "home" / "reports"  # default output: GONGU_HOME/reports
    names = sorted(p.name for p in reports.iterdir())
    assert names == sorted([f"{report_number(SLOPE)}.pdf", f"{report_number(TUNNEL)}.pdf"])
    assert all((reports / n).read_bytes().startswith(b"%PDF-") for n in names)


def test_bad_files_are_reported_each_and_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"kind": "car_survey", "case_id": "X"}', encoding="utf-8")
    hostile_dir = tmp_path / "hostile"
    hostile_dir.mkdir()
    data = json.loads(SLOPE.read_text(encoding="utf-8"))
    data["survey"]["photos"][0]["file"] = "../../etc/passwd"
    (hostile_dir / "case.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["render", str(broken), str(hostile_dir / "case.json"), "-o", str(out), "--jobs", "2"])
    assert result.exit_code == 2
    text = result.output.replace("\n", "")  # rich wraps long paths at the terminal width
    assert "broken.json" in text and "案件文件校验失败" in text
    assert "../../etc/passwd" in text and "案件文件夹" in text
    assert "Traceback" not in text
    assert not out.exists() or not any(out.iterdir())


def test_unknown_format_is_refused() -> None:
    with pytest.raises(GonguError):
        parse_formats("pdf,odt")
    assert parse_formats("docx, pdf,docx") == ("docx", "pdf")


def test_firm_templates_override_cover_and_colours(tmp_path: Path) -> None:
    firm = tmp_path / "firm"
    firm.mkdir()
    cover = (ROOT / "forms" / "templates" / "cover.html").read_text(encoding="utf-8")
    (firm / "cover.html").write_text(cover.replace("{{ doc.firm_name }}</p>", "{{ doc.firm_name }}</p><p>蜀安专用封面</p>"),
                                     encoding="utf-8")
    (firm / "firm.css").write_text(":root { --accent: #8b0000; }", encoding="utf-8")
    Image.new("RGB", (60, 60), (200, 0, 0)).save(firm / "seal.png")  # the firm's seal image, from its folder
    out = tmp_path / "out"
    result = runner.invoke(app, ["render", str(SLOPE), "-o", str(out), "--format", "pdf", "--templates", str(firm)])
    assert result.exit_code == 0, result.output
    pdf = out / f"{report_number(SLOPE)}.pdf"
    text = subprocess.run(["pdftotext", "-l", "1", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "蜀安专用封面" in text
    images = subprocess.run(["pdfimages", "-list", str(pdf)], check=True, capture_output=True, text=True).stdout
    listed = json.loads(SLOPE.read_text(encoding="utf-8"))["survey"]["photos"]
    photos = sum(1 for p in listed if (SLOPE.parent / p["file"]).is_file())
    assert sum(1 for line in images.splitlines()[2:] if " image " in line) == photos + 1


def test_templates_from_gongu_toml(tmp_path: Path) -> None:
    (tmp_path / "gongu.toml").write_text('[render]\ntemplates = "firm-templates"\n', encoding="utf-8")
    assert default_templates(load_settings(tmp_path)) == tmp_path.resolve() / "firm-templates"
    assert default_templates(load_settings(tmp_path / "elsewhere")) is None


def test_missing_templates_folder_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["render", str(SLOPE), "-o", str(tmp_path), "--templates", str(tmp_path / "nope")])
    assert result.exit_code == 2
