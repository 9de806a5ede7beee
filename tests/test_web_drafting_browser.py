"""A whole case written in a real browser (issue 29, first Done-when item): a handler creates a survey case
at /cases/new and fills every part of it through the section forms — typing each value of
examples/slope-collapse/case.json into the input its JSON path names, adding list rows with 「添加一行」 —
uploads one photo per survey record through the photos page, submits; the other handler confirms her
signature, three accounts approve 校对/复核/审核 and the approver issues (a job). The case folder downloaded
as a zip and issued by `gongu issue` gives the same report: the rendered PDF (its first revision, before
the signatures' incremental updates, which carry TSA times) and the DOCX are byte for byte what the renderer
gives for that folder with the check codes each issuance drew (random, so the two differ in them alone), and
the embedded case.json is byte-identical to the web's. The same for a forensic case up to its 司法鉴定意见书.

One server (SQLite store, one job worker) and one Chromium for the module; the tests run in order."""

from __future__ import annotations

import copy
import io
import json
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from generator.types import SHANGHAI
from gongu.web.schema_forms import input_id
from tests.webkit import browser, login, logout, make_account, screenshot, serve  # noqa: F401 — browser is a fixture

ROOT = Path(__file__).resolve().parents[1]
SURVEY = ROOT / "examples" / "slope-collapse"
PASSWORD = "drafting-e2e-42"
# username → (person, roles): the example's two handlers, the three review levels
ACCOUNTS = {
    "wang": ("王志强", {"handler"}), "chen": ("陈晓梅", {"handler"}), "zhao": ("赵丽", {"proofreader"}),
    "sun": ("孙立军", {"rechecker"}), "liu": ("刘建国", {"approver"}),
    # the forensic example's two appraisers, its 校对, 复核 (鉴定复核人) and 签发
    "li": ("李建国", {"appraiser"}), "zhou": ("周静", {"appraiser"}), "pu": ("蒲晓燕", {"proofreader"}),
    "zhong": ("钟文华", {"reviewer"}), "zhaodm": ("赵德明", {"approver"}),
}
# Written as [] on purpose (8.1: other insurance was looked for and none found): the form's 「经核实没有」 box.
STATED_NONE = ("other_insurance",)
WAIT_MS = 240_000  # issuing renders, seals (loopback TSA) and archives: seconds, more on a loaded machine


def survey_source() -> dict[str, Any]:
    """The example trimmed to what the test types: two survey records (R1, R2), two loss lines on them; the
    photos come through the photos page, the reviews from the three accounts."""
    data = json.loads((SURVEY / "case.json").read_text(encoding="utf-8"))
    data["survey"]["record_items"] = data["survey"]["record_items"][:2]
    data["survey"]["photos"] = data["survey"]["photos"][:2]
    data["losses"] = data["losses"][:2]
    data.pop("reviews")
    return without_empty_lists(data)


FORENSIC = ROOT / "examples" / "forensic-single-no-disability"
SCAN = ROOT / "examples" / "forensic-joint-grade10" / "scans" / "accident-report.pdf"
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2})?")


def forensic_source() -> dict[str, Any]:
    """The single-party forensic example moved in time so its 意见书 is dated today (Beijing): a forensic
    document is dated the day it is sealed (通则第三十七条), and both the web and `gongu issue` seal today.
    Every date and time moves by the same number of days (the birth date stays); the recordings are left out
    (the drafting pages take photos and scans, not audio), and so are the reviews (the three accounts')."""
    data = json.loads((FORENSIC / "case.json").read_text(encoding="utf-8"))
    delta = datetime.now(SHANGHAI).date() - date.fromisoformat(data["report"]["issued_on"])

    def moved(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: moved(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [moved(v, key) for v in value]
        if isinstance(value, str) and key != "birth_date" and _ISO.fullmatch(value):
            if "T" in value:
                return (datetime.fromisoformat(value) + delta).isoformat()
            return (date.fromisoformat(value) + delta).isoformat()
        return value

    data = moved(data)
    data["process"].pop("recordings")
    data.pop("reviews")
    return without_empty_lists(data)


def without_empty_lists(value: Any) -> Any:
    """An empty list is what the model defaults to, null what it leaves out: nobody types either, and the
    form leaves them out."""
    if isinstance(value, dict):
        return {k: without_empty_lists(v) for k, v in value.items() if (v != [] or k in STATED_NONE) and v is not None}
    if isinstance(value, list):
        return [without_empty_lists(v) for v in value]
    return value


class World:
    def __init__(self, root: Path) -> None:
        from signing.keys import DEMO_PASSPHRASE, make_demo_pki
        from signing.tsa import LocalTsa

        case, forensic = survey_source(), forensic_source()
        self.root = root
        self.home = root / "home"
        self.home.mkdir()
        keys = root / "keys"
        self.tsa = LocalTsa(keys).start()
        # one demo root: the firm's 公估专用章, the institution's 司法鉴定专用章, the handlers and the appraisers
        institution = forensic["institution"]["name"]
        appraisers = [(a["name"], a.get("licence_no")) for a in forensic["appraisers"]]
        self.pki = make_demo_pki(keys, case["firm"]["name"],
                                 [(h["name"], h.get("licence_no")) for h in case["handlers"]] + appraisers,
                                 crl_url=self.tsa.crl_url, other_firms=[institution],
                                 seal_purposes={institution: "司法鉴定专用章"},
                                 organisations={name: institution for name, _ in appraisers})
        people = [p for p, _ in ACCOUNTS.values()]
        (self.home / "gongu.toml").write_text("\n".join([
            "[signing]", f'firm_p12 = "{self.pki.firm_p12}"', f'tsa_url = "{self.tsa.url}"',
            f'trust_roots = ["{self.pki.root_pem}"]', f'crls = ["{self.pki.crl}"]', "[signing.handlers]",
            *[f'"{n}" = "{p}"' for n, p in self.pki.handler_p12.items()],
            "[signing.firms]", f'"{institution}" = "{self.pki.firm_p12s[institution]}"',
            "[people]", f"names = {json.dumps(people, ensure_ascii=False)}",
            "[numbering]", 'survey = "SA-GC-{yyyymmdd}-{seq:03}"']) + "\n", encoding="utf-8")
        self.env = {"GONGU_HOME": str(self.home), "GONGU_FIRM_KEY_PASSPHRASE": DEMO_PASSPHRASE,
                    "GONGU_HANDLER_KEY_PASSPHRASE": DEMO_PASSPHRASE}
        for username, (person, roles) in ACCOUNTS.items():
            make_account(self.home, username, roles, person, PASSWORD)
        from tests.archivekit import init_home

        init_home(self.home)
        self.cases: dict[str, str] = {}  # "survey" / "forensic" → the case id the workspace gave

    def case_data(self, case_id: str) -> dict[str, Any]:
        return json.loads((self.home / "workspace" / case_id / "case.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("web-drafting"))
    with pytest.MonkeyPatch.context() as mp:
        for key, value in w.env.items():
            mp.setenv(key, value)
        yield w
    w.tsa.stop()


@pytest.fixture(scope="module")
def base_url(world: World) -> Iterator[str]:
    with serve(world.home, workers=1) as url:
        yield url


class Htmx:
    """Counts the page's htmx requests in flight (the autosave on every change), so a button is pressed only
    once the autosaves have landed: a row button or 「保存」 sent while one is on its way would carry the
    form's old base and be refused as a conflict — the rule two people on one section need."""

    def __init__(self, page: Any) -> None:
        self.open = 0
        page.on("request", lambda r: self._count(r, 1))
        page.on("requestfinished", lambda r: self._count(r, -1))
        page.on("requestfailed", lambda r: self._count(r, -1))

    def _count(self, request: Any, delta: int) -> None:
        if request.headers.get("hx-request") == "true":
            self.open += delta

    def settle(self, page: Any) -> None:
        page.wait_for_timeout(450)  # hx-trigger="change delay:300ms"
        deadline = time.monotonic() + 60
        while self.open > 0 and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        assert self.open <= 0, "autosave did not finish"


@pytest.fixture(scope="module")
def context(browser: Any, base_url: str) -> Iterator[Any]:  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    ctx.set_default_timeout(WAIT_MS)
    yield ctx
    ctx.close()


@pytest.fixture(scope="module")
def page(context: Any) -> Any:
    pg = context.new_page()
    pg.htmx = Htmx(pg)
    return pg


def as_user(page: Any, base_url: str, username: str) -> None:
    if page.query_selector("header .who button[type=submit]"):
        logout(page)
    login(page, base_url, username, PASSWORD)


def shot(page: Any, name: str) -> None:
    screenshot(page, f"drafting-{name}.png", full_page=True)


# ───────────────────────────── filling a section from a dict ─────────────────────────────

def _lists(value: Any, path: str) -> Iterator[tuple[str, int]]:
    """(path, row count) of every list of records under `value`, a list before the lists in its rows."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _lists(inner, f"{path}.{key}")
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        yield path, len(value)
        for i, row in enumerate(value):
            yield from _lists(row, f"{path}[{i}]")


def _leaves(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(path, value) of every input to fill: scalars, and lists of plain values (one per line)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _leaves(inner, f"{path}.{key}")
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for i, row in enumerate(value):
            yield from _leaves(row, f"{path}[{i}]")
    else:
        yield path, value


def _rows_shown(page: Any, path: str) -> int:
    n = 0
    while page.locator(f'[id="{input_id(f"{path}[{n}]")}"]').count():
        n += 1
    return n


def _submit(page: Any, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)
    page.wait_for_load_state()


def fill_section(page: Any, values: dict[str, Any]) -> None:
    """Type `values` (top-level key → JSON value, as in a case file) into the open section form: first the
    rows every list needs (「添加一行」, which saves and reloads), then every input by its JSON-path name;
    then 「保存」 once the autosaves have landed."""
    for key, value in values.items():
        for path, count in _lists(value, f"$.{key}"):
            while _rows_shown(page, path) < count:
                page.htmx.settle(page)
                _submit(page, f'button[name=_op][value="add:{path}"]')
                assert not page.query_selector("#errors"), page.inner_text("#errors")
    for key, value in values.items():
        for path, leaf in _leaves(value, f"$.{key}"):
            if leaf == []:  # a list stated to have no rows
                page.check(f'input[type=checkbox][name=_keep][value="{path}"]')
                continue
            field = page.locator(f'[name="{path}"]')
            assert field.count() == 1, f"no input named {path}"
            tag, kind, step = field.evaluate("e => [e.tagName, e.type, e.step]")
            if tag == "SELECT":
                field.select_option(json.dumps(leaf) if isinstance(leaf, bool) else str(leaf))
            elif isinstance(leaf, list):
                field.fill("\n".join(str(v) for v in leaf))
            elif kind == "datetime-local" and step != "1":
                assert str(leaf).endswith(":00"), f"{path}: {leaf} has seconds the minute input cannot take"
                field.fill(str(leaf)[:16])
            else:
                field.fill(str(leaf))
    page.locator("h1").click()  # leave the last input: its change event autosaves too
    page.htmx.settle(page)
    _submit(page, "#section-form .actions button[type=submit]")
    assert not page.query_selector("#errors"), page.inner_text("#errors")


def open_section(page: Any, base_url: str, case_id: str, section: str) -> None:
    page.goto(f"{base_url}/cases/{case_id}/edit/{section}")
    assert not page.query_selector("#readonly"), page.inner_text("#readonly")


# ───────────────────────────── the issued report, compared ─────────────────────────────

def _fields(pdf: bytes) -> set[str]:
    from pyhanko.pdf_utils.reader import PdfFileReader

    root = PdfFileReader(io.BytesIO(pdf), strict=False).root
    form = root.get("/AcroForm")
    return {str(f.get_object().get("/T")) for f in form.get_object()["/Fields"]} if form is not None else set()


def rendered_part(pdf: bytes) -> bytes:
    """The PDF as the renderer wrote it: its revisions up to the one holding the empty signature fields
    (WeasyPrint's PDF/A, then the renderer's own pinned update adding the fields). What follows is the
    sealing: the seal drawn on the 意见书's pages (signing/seal_marks.py) and each signature with its TSA
    time — the shortest revision prefix with every field the file had just before the first signature."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    signatures = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    assert signatures, "the issued report has no signature"
    signed_from = min(s.byte_range[1] for s in signatures)  # where the first signature's /Contents begins
    ends = [m.end() for m in re.finditer(rb"%%EOF\r?\n?", pdf[:signed_from])]
    assert ends, "no revision ends before the first signature"
    fields = _fields(pdf[:ends[-1]])
    assert fields, "no signature field before the first signature"
    return next(pdf[:end] for end in ends if _fields(pdf[:end]) == fields)


def embedded_case(pdf: bytes) -> bytes:
    """The case.json the PDF/A-3 report carries as its attachment."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf))
    names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    found = {str(names[i]): names[i + 1].get_object() for i in range(0, len(names), 2)}
    spec = found["case.json"]
    return bytes(spec["/EF"]["/F"].get_object().data)


def rendered_with_codes(world: World, folder: Path, handed: bytes, entry: dict[str, Any]) -> dict[str, tuple[bytes, bytes]]:
    """Every document of the issuance `entry` re-rendered from the handed folder with the check codes the
    issuance recorded: file name as issued → (PDF, DOCX) bytes as the renderer writes them. An issue is
    exactly this render plus the seals, so each side must equal it with its own codes."""
    import shutil

    from generator.check_code import DocumentCodes
    from generator.loading import load_case
    from generator.render import render_case_documents
    from gongu.pipeline.issuing import document_keys
    from gongu.settings import load_settings

    work = world.root / f"rerender-{entry['check_code']}"
    shutil.copytree(folder, work / "case")
    (work / "case" / "case.json").write_bytes(handed)  # the case as issued, before its issuance was recorded
    loaded = load_case(work / "case" / "case.json")
    others = {d["key"]: d for d in entry.get("documents") or []}
    (primary,) = [k for k in document_keys(loaded) if k not in others]
    codes = {primary: entry["check_code"], **{k: d["check_code"] for k, d in others.items()}}
    docs = render_case_documents(loaded, work / "out", codes=DocumentCodes(load_settings(world.home).web.public_url,
                                                                           codes))
    names = {primary: entry["pdf_file"], **{k: d["pdf_file"] for k, d in others.items()}}
    return {names[d.key]: (d.pdf.read_bytes(), d.docx.read_bytes()) for d in docs if d.pdf and d.docx}


def cli(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, **world.env, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "gongu", *args], capture_output=True, text=True, env=env,
                          timeout=600, cwd=world.root)


def download_folder(page: Any, base_url: str, case_id: str, target: Path) -> Path:
    response = page.request.get(f"{base_url}/cases/{case_id}/folder.zip")
    assert response.ok and response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.body())) as zf:
        zf.extractall(target)
    return target / case_id


# ───────────────────────────── the survey case ─────────────────────────────

SURVEY_ORDER = ("commission", "handlers", "policy", "project", "incident", "survey", "cause", "liability", "losses",
                "rescue", "third_party", "conclusion", "report", "attachments", "delivery")


def test_a_handler_creates_a_survey_case_and_fills_every_section(world: World, base_url: str, page: Any) -> None:
    from gongu.pipeline.drafting import SURVEY_SECTIONS

    source = survey_source()
    assert tuple(s.key for s in SURVEY_SECTIONS) == SURVEY_ORDER
    as_user(page, base_url, "wang")
    page.goto(f"{base_url}/cases/new")
    page.check("input[name=kind][value=car_survey]")
    page.fill("input[name=case_name]", source["case_name"])
    page.fill("input[name=received_at]", source["commission"]["received_at"][:16])
    page.fill("input[name=commissioning_party]", source["commission"]["commissioning_party"])
    page.fill("input[name=policy_number]", source["policy"]["number"])
    page.fill("input[name=insurer]", source["policy"]["insurer"])
    page.fill("input[name=insured]", source["policy"]["insured"])
    page.check("input[name=people][value=王志强]")
    page.check("input[name=people][value=陈晓梅]")
    shot(page, "new-case")
    _submit(page, "#new-case button[type=submit]")
    found = re.search(r"/cases/([^/]+)/edit/commission$", page.url)
    assert found, page.url
    case_id = found.group(1)
    today = datetime.now(SHANGHAI).strftime("%Y%m%d")
    assert case_id == f"SA-GC-{today}-001"  # the firm's numbering in gongu.toml, the first case of the day
    world.cases["survey"] = case_id
    data = world.case_data(case_id)
    assert data["commission"]["received_at"] == source["commission"]["received_at"]
    assert sorted(h["name"] for h in data["handlers"]) == ["王志强", "陈晓梅"]  # the handlers form orders them

    from gongu.pipeline.drafting import section as section_of

    for key in SURVEY_ORDER:
        sec = section_of("car_survey", key)
        values = {k: copy.deepcopy(source[k]) for k in sec.keys if k in source}
        if key == "survey":
            values["survey"].pop("photos")  # through the photos page, below
        open_section(page, base_url, case_id, key)
        fill_section(page, values)
        if key == "policy":
            shot(page, "section-policy")
        saved = world.case_data(case_id)
        for k, v in values.items():
            assert saved.get(k) == v, f"{key}: $.{k} saved as {json.dumps(saved.get(k), ensure_ascii=False)[:300]}"
    page.goto(f"{base_url}/cases/{case_id}/edit/losses")
    figures = page.inner_text("#figures") if page.query_selector("#figures") else page.inner_text("main")
    # L1 3250 × 28.50 = 92,625.00; L2 860 × 412.00 = 354,320.00
    assert "92,625.00" in figures and "354,320.00" in figures, figures
    shot(page, "losses")


def test_one_photo_per_record_through_the_photos_page_on_a_phone(world: World, base_url: str, context: Any,
                                                                   browser: Any) -> None:  # noqa: F811
    case_id = world.cases["survey"]
    source = survey_source()["survey"]["photos"]
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.set_default_timeout(WAIT_MS)
    try:
        pg = phone.new_page()
        login(pg, base_url, "wang", PASSWORD)
        for photo in source:
            pg.goto(f"{base_url}/cases/{case_id}/photos")
            pg.set_input_files("#photo-files", SURVEY / photo["file"])
            pg.fill("#caption-0", photo["caption"])
            pg.select_option("#photo-record", photo["record_item"])
            _submit(pg, "#photo-submit")
            assert not pg.query_selector("#errors"), pg.inner_text("#errors")
        # the camera wrote no EXIF time: typed in the list, with the seconds the input shows
        for i, photo in enumerate(source):
            pg.fill(f'[name="$.survey.photos[{i}].taken_at"]', photo["taken_at"])
        _submit(pg, "#photos-save")
        assert not pg.query_selector("#errors"), pg.inner_text("#errors")
    finally:
        phone.close()
    photos = world.case_data(case_id)["survey"]["photos"]
    assert [(p["file"], p["caption"], p["record_item"], p["taken_at"]) for p in photos] == [
        ("photos/P01.jpg", "坍塌全貌（无人机航拍）", "R1", "2025-07-12T14:45:00"),
        ("photos/P02.jpg", "第二级坡面护坡垮塌", "R2", "2025-07-12T15:10:00")]
    assert (world.home / "workspace" / case_id / "photos" / "P02.jpg").is_file()


def test_the_filled_case_checks_clean_and_goes_through_review(world: World, base_url: str, page: Any) -> None:
    case_id = world.cases["survey"]
    folder = download_folder(page, base_url, case_id, world.root / "draft-folder")
    checked = cli(world, "check", "--stage", "review", str(folder / "case.json"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    case_url = f"{base_url}/cases/{case_id}"
    as_user(page, base_url, "wang")
    page.goto(case_url)
    assert page.locator("#qc tr.blocking").count() == 0, page.inner_text("#qc")
    _submit(page, "#submit-case")
    assert page.inner_text("#case-status") == "审核中"
    as_user(page, base_url, "chen")
    page.goto(case_url)
    _submit(page, "#confirm-signature")
    assert not page.query_selector("#errors") and not page.query_selector("#unconfirmed")
    for username, comment in (("zhao", "数字与附表一致"), ("sun", "损失核定依据充分"), ("liu", "同意出具")):
        as_user(page, base_url, username)
        page.goto(case_url)
        page.fill("#review-form textarea[name=comment]", comment)
        _submit(page, "#approve")
        assert not page.query_selector("#errors"), page.inner_text("#errors")
    reviews = world.case_data(case_id)["reviews"]
    assert [(r["level"], r["reviewer"], r["decision"]) for r in reviews] == [
        ("proofread", "赵丽", "approve"), ("recheck", "孙立军", "approve"), ("approve", "刘建国", "approve")]


def test_the_web_issue_is_byte_for_byte_what_gongu_issue_gives_for_the_downloaded_folder(
        world: World, base_url: str, page: Any) -> None:
    case_id = world.cases["survey"]
    as_user(page, base_url, "liu")
    # the folder as it stands when the approver issues: what `gongu issue` is given
    folder = download_folder(page, base_url, case_id, world.root / "issued-folder")
    handed = (folder / "case.json").read_bytes()
    assert handed == (world.home / "workspace" / case_id / "case.json").read_bytes()
    out = world.root / "cli-issued"
    issued = cli(world, "issue", str(folder / "case.json"), "-o", str(out))
    assert issued.returncode == 0, issued.stdout + issued.stderr
    page.goto(f"{base_url}/cases/{case_id}")
    page.click("#issue")
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    page.wait_for_selector("#job-state.done, #job-state.failed", timeout=WAIT_MS)
    assert page.inner_text("#job-state") == "已完成", page.inner_text("#job")
    response = page.request.get(f"{base_url}/cases/{case_id}/report.pdf")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    web_pdf = response.body()
    docx = page.request.get(f"{base_url}/cases/{case_id}/report.docx")
    assert docx.ok
    number = survey_source()["report"]["number"]
    cli_pdf = (out / f"{number}.pdf").read_bytes()
    assert len(rendered_part(web_pdf)) > 10_000
    web_entry = world.case_data(case_id)["issuances"][-1]
    cli_entry = json.loads((folder / "case.json").read_text(encoding="utf-8"))["issuances"][-1]
    assert web_entry["check_code"] != cli_entry["check_code"]  # each issuance draws its own
    (web_render,) = rendered_with_codes(world, folder, handed, web_entry).values()
    (cli_render,) = rendered_with_codes(world, folder, handed, cli_entry).values()
    assert rendered_part(web_pdf) == web_render[0] and rendered_part(cli_pdf) == cli_render[0]
    assert embedded_case(web_pdf) == embedded_case(cli_pdf) == handed
    assert docx.body() == web_render[1] and (out / f"{number}.docx").read_bytes() == cli_render[1]


# ───────────────────────────── the forensic case ─────────────────────────────

def test_an_appraiser_writes_a_forensic_case_up_to_the_opinion(world: World, base_url: str, page: Any) -> None:
    from gongu.pipeline.drafting import FORENSIC_SECTIONS

    source = forensic_source()
    as_user(page, base_url, "li")
    page.goto(f"{base_url}/cases/new")
    page.check("input[name=kind][value=forensic_appraisal]")
    page.fill("input[name=case_name]", source["case_name"])
    page.fill("input[name=received_at]", source["timeline"]["received_at"][:16])
    page.fill("#new-case input[name=commission_number]", source["commission"]["number"])
    page.fill("#new-case input[name=party]", source["parties"][0]["name"])
    page.fill("#new-case input[name=purpose]", source["commission"]["purpose"])
    page.check("input[name=people][value=李建国]")
    page.check("input[name=people][value=周静]")
    _submit(page, "#new-case button[type=submit]")
    found = re.search(r"/cases/([^/]+)/edit/commission$", page.url)
    assert found, page.url
    case_id = world.cases["forensic"] = found.group(1)
    assert world.case_data(case_id)["timeline"] == {"received_at": source["timeline"]["received_at"]}
    for sec in FORENSIC_SECTIONS:
        values = {k: copy.deepcopy(source[k]) for k in sec.keys if k in source}
        if not values:
            continue  # 终止、补正、补充与争议: none in this case
        open_section(page, base_url, case_id, sec.key)
        fill_section(page, values)
        saved = world.case_data(case_id)
        for k, v in values.items():
            assert saved.get(k) == v, f"{sec.key}: $.{k} saved as {json.dumps(saved.get(k), ensure_ascii=False)[:300]}"
    # the police report's scan, through the scans page (C3 is the third material)
    page.goto(f"{base_url}/cases/{case_id}/photos")
    page.set_input_files("#scan-2", SCAN)
    _submit(page, "#scans button[type=submit]")
    assert not page.query_selector("#errors"), page.inner_text("#errors")
    materials = world.case_data(case_id)["materials"]
    assert [m.get("file") for m in materials] == [None, None, "scans/accident-report.pdf", None]
    assert (world.home / "workspace" / case_id / "scans" / "accident-report.pdf").read_bytes() == SCAN.read_bytes()


def test_the_forensic_case_is_reviewed_and_its_opinion_issued_as_gongu_issue_gives_it(
        world: World, base_url: str, page: Any) -> None:
    case_id = world.cases["forensic"]
    folder = download_folder(page, base_url, case_id, world.root / "forensic-draft")
    checked = cli(world, "check", "--stage", "review", str(folder / "case.json"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    case_url = f"{base_url}/cases/{case_id}"
    as_user(page, base_url, "li")
    page.goto(case_url)
    _submit(page, "#submit-case")
    assert page.inner_text("#case-status") == "审核中", page.inner_text("main")[:2000]
    as_user(page, base_url, "zhou")
    page.goto(case_url)
    _submit(page, "#confirm-signature")
    assert not page.query_selector("#errors") and not page.query_selector("#unconfirmed")
    for username, comment in (("pu", "文字、数字与检验记录核对一致"), ("zhong", "见复核意见"), ("zhaodm", "同意签发")):
        as_user(page, base_url, username)
        page.goto(case_url)
        page.fill("#review-form textarea[name=comment]", comment)
        _submit(page, "#approve")
        assert not page.query_selector("#errors"), page.inner_text("#errors")
    folder = download_folder(page, base_url, case_id, world.root / "forensic-issued-folder")
    handed = (folder / "case.json").read_bytes()
    out = world.root / "forensic-cli-issued"
    issued = cli(world, "issue", str(folder / "case.json"), "-o", str(out))
    assert issued.returncode == 0, issued.stdout + issued.stderr
    page.goto(case_url)
    page.click("#issue")
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    page.wait_for_selector("#job-state.done, #job-state.failed", timeout=WAIT_MS)
    assert page.inner_text("#job-state") == "已完成", page.inner_text("#job")
    response = page.request.get(f"{base_url}/cases/{case_id}/report.pdf")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    web_pdf = response.body()
    web_entry = world.case_data(case_id)["issuances"][-1]
    cli_entry = json.loads((folder / "case.json").read_text(encoding="utf-8"))["issuances"][-1]
    assert web_entry["pdf_file"] == cli_entry["pdf_file"] and web_entry["number"] == source_number()
    cli_pdf = (out / cli_entry["pdf_file"]).read_bytes()
    assert "司法鉴定意见书" in pdf_text(web_pdf)
    web_render = rendered_with_codes(world, folder, handed, web_entry)
    cli_render = rendered_with_codes(world, folder, handed, cli_entry)
    assert rendered_part(web_pdf) == web_render[web_entry["pdf_file"]][0]
    assert rendered_part(cli_pdf) == cli_render[cli_entry["pdf_file"]][0]
    assert embedded_case(web_pdf) == embedded_case(cli_pdf) == handed
    docx = page.request.get(f"{base_url}/cases/{case_id}/report.docx")
    assert docx.ok and docx.body() == web_render[web_entry["pdf_file"]][1]
    assert (out / cli_entry["docx_file"]).read_bytes() == cli_render[cli_entry["pdf_file"]][1]
    # the documents issued with it (委托书, 告知书, records …), sealed by the institution: the same, each one
    companions = sorted(p.name for p in out.glob("*-*.pdf"))
    assert len(companions) >= 5, companions  # commission, risk notice, witness notice, recusal, review opinion …
    issued_dir = world.home / "issued" / case_id
    assert sorted(p.name for p in issued_dir.glob("*-*.pdf")) == companions
    assert sorted(web_render) == sorted(cli_render) == sorted([*companions, cli_entry["pdf_file"]])
    for name in companions:
        web_doc, cli_doc = (issued_dir / name).read_bytes(), (out / name).read_bytes()
        assert rendered_part(web_doc) == web_render[name][0] and rendered_part(cli_doc) == cli_render[name][0], name
        stem = name.removesuffix(".pdf")
        assert (issued_dir / f"{stem}.docx").read_bytes() == web_render[name][1], stem
        assert (out / f"{stem}.docx").read_bytes() == cli_render[name][1], stem


def source_number() -> str:
    return str(forensic_source()["report"]["number"])


def pdf_text(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-l", "3", "-", "-"], input=pdf, capture_output=True, check=True)
    return out.stdout.decode("utf-8")
