"""The daily deadline scan (gongu/pipeline/reminders.py): per person, what is overdue or falls due within a
day, recorded once per step and Beijing day (archive/reminders.py, unique key) and sent as one UTF-8
e-mail digest per person through a real SMTP server (aiosmtpd on 127.0.0.1) when `[mail]` is configured.

The steps are the work queue's DueItem records; the due times in them are set by hand here (4.4: contact
within 30 minutes of assignment; 5.1: arrival within 12 hours; the forensic limits in working days), and
every expected line of the digest is written out from them."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import exc as sa_exc
from sqlalchemy import insert
from typer.testing import CliRunner

from archive.accounts import add_account, get_account, set_disabled, set_email, set_password
from archive.catalog import Catalog
from archive.reminders import reminders_table
from generator.types import SHANGHAI
from gongu.cli.app import app
from gongu.pipeline.archiving import open_store
from gongu.pipeline.queue import DueItem
from gongu.pipeline.reminders import daily_scan, reminders_for, scan
from gongu.settings import Settings, load_settings

runner = CliRunner()
PASSWORD = "lantern-orchard-copper-41"
WANG, ZHOU = "王志强", "周静"
MON_0900 = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)  # a Monday, Beijing time
MON_1500 = datetime(2026, 3, 2, 15, 0, tzinfo=SHANGHAI)
TUE_0900 = datetime(2026, 3, 3, 9, 0, tzinfo=SHANGHAI)


# ─────────────────────────────────────────── fixtures ───────────────────────────────────────────

def _step(case_id: str, stage: str, title: str, person: str, due: datetime | None, now: datetime, *,
          kind: str = "car_survey", clause: str = "4.4", working_days: int | None = None,
          estimated: bool = False) -> DueItem:
    hours = None if due is None or working_days is not None else round((due - now).total_seconds() / 3600, 2)
    overdue = due is not None and due < now
    return DueItem(case_id=case_id, kind=kind, stage=stage, stage_title=title, person=person, due_at=due,
                   working_days_left=working_days, hours_left=hours, overdue=overdue, estimated=estimated,
                   clause=clause)


def _steps(now: datetime) -> list[DueItem]:
    """The open steps of the firm at `now`, with due times worked out by hand."""
    return [
        # C-1 assigned Mon 08:00: contact within 30 minutes (4.4) → due Mon 08:30
        _step("C-1", "contact", "联系被保险人", WANG, datetime(2026, 3, 2, 8, 30, tzinfo=SHANGHAI), now),
        # C-2 contacted Mon 09:00 with a 12-hour arrival limit (5.1) → due Mon 21:00
        _step("C-2", "survey", "到达现场查勘", WANG, datetime(2026, 3, 2, 21, 0, tzinfo=SHANGHAI), now, clause="5.1"),
        # F-1 forensic appraisal whose last working day is Mon 2 March (通则 Art 28): due at the end of that
        # Beijing day, 23:59:59; Tuesday it is one working day overdue
        _step("F-1", "appraisal", "完成鉴定", WANG, datetime(2026, 3, 2, 23, 59, 59, tzinfo=SHANGHAI), now,
              kind="forensic_appraisal", clause="通则 Art 28", working_days=0 if now.day == 2 else -1),
        # C-4 report due Tue 14:00: not within a day at Mon 09:00 (29 h), within a day at Mon 15:00 (23 h)
        _step("C-4", "write", "撰写报告", WANG, datetime(2026, 3, 3, 14, 0, tzinfo=SHANGHAI), now, clause="7.1"),
        # C-5 for 周静 (no e-mail address): due Mon 12:00
        _step("C-5", "proofread", "校对", ZHOU, datetime(2026, 3, 2, 12, 0, tzinfo=SHANGHAI), now, clause="9.3"),
        # C-6 due next week: never in today's digest
        _step("C-6", "archive", "归档", WANG, datetime(2026, 3, 9, 17, 0, tzinfo=SHANGHAI), now, clause="10.1"),
        # C-7 nobody named yet: listed as unassigned, reminded to nobody
        _step("C-7", "contact", "联系被保险人", "", datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI), now),
    ]


class Inbox:
    """aiosmtpd handler: keeps every message the server accepted."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201 — aiosmtpd's hook
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_port() -> int:
    return _free_port()


@pytest.fixture
def inbox(smtp_port: int):  # noqa: ANN201
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def _mail_toml(port: int) -> str:
    return (f'[mail]\nhost = "127.0.0.1"\nport = {port}\nsender = "gongu@firm.example"\nsecurity = "none"\n'
            "timeout = 5\n")


def _home(base: Path, toml: str) -> Settings:
    base.mkdir(parents=True, exist_ok=True)
    (base / "gongu.toml").write_text(toml, encoding="utf-8")
    return load_settings(base)


def _people(catalog: Catalog) -> None:
    add_account(catalog, "wang", password=PASSWORD, roles={"handler"}, person=WANG, now=MON_0900)
    add_account(catalog, "zhou", password=PASSWORD, roles={"proofreader"}, person=ZHOU, now=MON_0900)
    set_email(catalog, "wang", "wang@firm.example")


@pytest.fixture
def firm(tmp_path: Path, smtp_port: int):  # noqa: ANN201
    settings = _home(tmp_path / "home", _mail_toml(smtp_port))
    catalog = open_store(settings)
    _people(catalog)
    try:
        yield settings, catalog
    finally:
        catalog.close()


def _body(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


# ─────────────────────────────────────────── the digest ───────────────────────────────────────────

def test_the_digest_arrives_with_the_overdue_and_due_within_a_day(firm, inbox: Inbox) -> None:  # noqa: ANN001
    settings, catalog = firm
    result = scan(settings, catalog, _steps(MON_0900), MON_0900)

    assert len(inbox.messages) == 1
    sender, recipients, msg = inbox.messages[0]
    assert sender == "gongu@firm.example" and recipients == ["wang@firm.example"]
    assert msg["Subject"] == "Gongu 待办提醒 2026-03-02：逾期 1 项，一日内到期 2 项"
    assert msg.get_body(preferencelist=("plain",)).get_content_charset() == "utf-8"
    assert _body(msg) == (
        "王志强，您好：\n\n"
        "截至 2026-03-02 09:00（北京时间），以下待办逾期或将在一日内到期：\n\n"
        "【逾期】\n"
        "1. 案件 C-1 · 联系被保险人\n"
        "   到期：2026-03-02 08:30　逾期 30 分钟　依据：4.4\n\n"
        "【一日内到期】\n"
        "2. 案件 C-2 · 到达现场查勘\n"
        "   到期：2026-03-02 21:00　剩 12.0 小时　依据：5.1\n"
        "3. 案件 F-1 · 完成鉴定\n"
        "   到期：2026-03-02 23:59　剩 0 个工作日　依据：通则 Art 28\n\n"
        "详见工作台「我的待办」页面。同一步骤每天只提醒一次。\n\n"
        "—— Gongu 公估工作台（系统自动发送，请勿回复）\n")

    # 周静 has no address: her reminder is on the queue page only; C-7 has nobody to remind
    by_person = {d.person: d for d in result.digests}
    assert set(by_person) == {WANG, ZHOU}
    assert by_person[WANG].channel == "mail" and by_person[WANG].sent
    assert by_person[ZHOU].channel == "page" and by_person[ZHOU].sent
    assert result.skipped == ("C-7·联系被保险人",)
    zhou = reminders_for(catalog, ZHOU, date(2026, 3, 2))
    assert [(r.case_id, r.stage, r.channel, r.time_left) for r in zhou] == [("C-5", "proofread", "page", "剩 3.0 小时")]
    assert zhou[0].sent_at == MON_0900
    wang = reminders_for(catalog, WANG, date(2026, 3, 2))
    assert [(r.case_id, r.overdue, r.sent_at) for r in wang] == [("C-1", True, MON_0900), ("C-2", False, MON_0900),
                                                                 ("F-1", False, MON_0900)]


def test_a_second_scan_the_same_day_sends_only_what_newly_fell_due(firm, inbox: Inbox) -> None:  # noqa: ANN001
    settings, catalog = firm
    scan(settings, catalog, _steps(MON_0900), MON_0900)
    again = scan(settings, catalog, _steps(MON_0900), MON_0900)
    assert len(inbox.messages) == 1 and again.digests == () and again.already == 4  # C-1, C-2, F-1, C-5

    # at 15:00 C-4 (due Tue 14:00) is 23 hours away: that step alone, in a digest of its own
    later = scan(settings, catalog, _steps(MON_1500), MON_1500)
    assert len(inbox.messages) == 2
    msg = inbox.messages[1][2]
    assert msg["Subject"] == "Gongu 待办提醒 2026-03-02：一日内到期 1 项"
    assert "1. 案件 C-4 · 撰写报告\n   到期：2026-03-03 14:00　剩 23.0 小时　依据：7.1\n" in _body(msg)
    assert "C-1" not in _body(msg) and "C-2" not in _body(msg)
    assert [d.person for d in later.digests] == [WANG]


def test_the_next_day_reminds_again_of_what_is_still_due(firm, inbox: Inbox) -> None:  # noqa: ANN001
    settings, catalog = firm
    scan(settings, catalog, _steps(MON_0900), MON_0900)
    # Tuesday 09:00: C-1 and F-1 still open (C-2 and C-5 done, so no longer in the queue)
    tuesday = [s for s in _steps(TUE_0900) if s.case_id in ("C-1", "F-1", "C-4")]
    scan(settings, catalog, tuesday, TUE_0900)
    assert len(inbox.messages) == 2
    msg = inbox.messages[1][2]
    assert msg["Subject"] == "Gongu 待办提醒 2026-03-03：逾期 2 项，一日内到期 1 项"
    body = _body(msg)
    assert "1. 案件 C-1 · 联系被保险人\n   到期：2026-03-02 08:30　逾期 24.5 小时　依据：4.4\n" in body
    assert "2. 案件 F-1 · 完成鉴定\n   到期：2026-03-02 23:59　逾期 1 个工作日　依据：通则 Art 28\n" in body
    assert "3. 案件 C-4 · 撰写报告\n   到期：2026-03-03 14:00　剩 5.0 小时　依据：7.1\n" in body
    assert [r.case_id for r in reminders_for(catalog, WANG, date(2026, 3, 3))] == ["C-1", "F-1", "C-4"]
    # Monday's record is kept as it was
    assert [r.case_id for r in reminders_for(catalog, WANG, date(2026, 3, 2))] == ["C-1", "C-2", "F-1"]


def test_without_mail_settings_the_reminders_are_on_the_page_only(tmp_path: Path, inbox: Inbox) -> None:
    settings = _home(tmp_path / "home", '[people]\nnames = ["王志强", "周静"]\n')
    catalog = open_store(settings)
    try:
        _people(catalog)
        result = scan(settings, catalog, _steps(MON_0900), MON_0900)
        assert inbox.messages == []
        assert not result.mail_configured
        assert {d.person: (d.channel, d.sent) for d in result.digests} == {WANG: ("page", True), ZHOU: ("page", True)}
        assert [r.case_id for r in reminders_for(catalog, WANG, date(2026, 3, 2))] == ["C-1", "C-2", "F-1"]
        assert all(r.channel == "page" and r.delivered for r in reminders_for(catalog, WANG, date(2026, 3, 2)))
    finally:
        catalog.close()


def test_a_dry_run_records_and_sends_nothing(firm, inbox: Inbox) -> None:  # noqa: ANN001
    settings, catalog = firm
    preview = scan(settings, catalog, _steps(MON_0900), MON_0900, dry_run=True)
    assert inbox.messages == [] and reminders_for(catalog, WANG, date(2026, 3, 2)) == []
    assert {d.person: [r.case_id for r in d.items] for d in preview.digests} == {WANG: ["C-1", "C-2", "F-1"],
                                                                                 ZHOU: ["C-5"]}
    assert not any(d.sent for d in preview.digests)


# ─────────────────────────────────────────── failures ───────────────────────────────────────────

def test_smtp_down_records_the_failure_and_the_next_scan_sends(firm, smtp_port: int) -> None:  # noqa: ANN001
    settings, catalog = firm
    result = scan(settings, catalog, _steps(MON_0900), MON_0900)  # nothing listens on the port yet
    [wang] = [d for d in result.digests if d.person == WANG]
    assert not wang.sent and wang.error is not None and f"127.0.0.1:{smtp_port}" in wang.error
    rows = reminders_for(catalog, WANG, date(2026, 3, 2))
    assert [r.case_id for r in rows] == ["C-1", "C-2", "F-1"]
    assert all(r.sent_at is None and r.error == wang.error for r in rows)
    assert result.already == 0

    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        retry = scan(settings, catalog, _steps(MON_1500), MON_1500)
        assert len(box.messages) == 1
        body = _body(box.messages[0][2])
        for case_id in ("C-1", "C-2", "F-1", "C-4"):  # the unsent three, and C-4 that fell due since
            assert f"案件 {case_id} ·" in body
        assert [d.sent for d in retry.digests] == [True] and retry.already == 1  # 周静's C-5, on the page
        assert all(r.sent_at == MON_1500 and r.error is None for r in reminders_for(catalog, WANG, date(2026, 3, 2)))
        scan(settings, catalog, _steps(MON_1500), MON_1500)
        assert len(box.messages) == 1  # sent is sent: never again that day
    finally:
        controller.stop()


@pytest.mark.parametrize(("section", "expected"), [
    ('host = "127.0.0.1"\nport = "25"\nsender = "gongu@firm.example"\n', "mail.port：类型错误"),
    ('host = "127.0.0.1"\nsender = "gongu@firm.example"\npassword = "secret-in-file"\n', "GONGU_MAIL_PASSWORD"),
    ('host = "127.0.0.1"\nsender = "gongu@firm.example"\nsecurity = "tls"\n', "mail.security：取值不在允许范围内"),
    ('host = "127.0.0.1"\nsender = "王志强 <gongu@firm.example>"\n', "mail.sender：取值无效"),
    ('hots = "127.0.0.1"\nsender = "gongu@firm.example"\n', "是否应为 mail.host"),
])
def test_a_bad_mail_section_is_a_settings_error_with_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            section: str, expected: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "gongu.toml").write_text("[mail]\n" + section, encoding="utf-8")
    monkeypatch.setenv("GONGU_HOME", str(home))
    result = runner.invoke(app, ["remind"])
    assert result.exit_code == 2, result.output
    assert expected in result.output and "Traceback" not in result.output
    assert "secret-in-file" not in result.output  # a password written in the file is never echoed


# ───────────────────────────────────── once a day, on both stores ─────────────────────────────────────

@pytest.fixture(params=["sqlite", "postgresql"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path, smtp_port: int) -> Settings:
    toml = _mail_toml(smtp_port)
    if request.param == "postgresql":
        toml += f'[store]\nurl = "{request.getfixturevalue("pg_url")}"\nconnect_timeout = 5\n'
    return _home(tmp_path / "home", toml)


def test_two_scans_at_once_send_each_step_once(store_settings: Settings, inbox: Inbox) -> None:
    first = open_store(store_settings)
    second = open_store(store_settings)
    try:
        _people(first)
        steps = _steps(MON_0900)
        results: list[object] = []
        barrier = threading.Barrier(2)

        def run(catalog: Catalog) -> None:
            barrier.wait()
            results.append(scan(store_settings, catalog, steps, MON_0900))

        threads = [threading.Thread(target=run, args=(c,)) for c in (first, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(results) == 2
        assert [m[1] for m in inbox.messages] == [["wang@firm.example"]]
        assert sorted(f"{r.person}:{r.case_id}" for r in reminders_for(first, WANG, date(2026, 3, 2))
                      + reminders_for(first, ZHOU, date(2026, 3, 2))) == [
            "周静:C-5", "王志强:C-1", "王志强:C-2", "王志强:F-1"]
    finally:
        first.close()
        second.close()


def test_the_store_itself_refuses_a_second_row_for_a_step_and_day(store_settings: Settings) -> None:
    catalog = open_store(store_settings)
    try:
        row = {"person": WANG, "case_id": "C-1", "stage": "contact", "day": "2026-03-02", "channel": "mail",
               "kind": "car_survey", "stage_title": "联系被保险人", "time_left": "逾期", "overdue": 1, "estimated": 0,
               "clause": "4.4", "recorded_at": MON_0900.isoformat()}
        with catalog.write():
            catalog._writing().execute(insert(reminders_table).values(**row))
        with pytest.raises(sa_exc.IntegrityError), catalog.write():
            catalog._writing().execute(insert(reminders_table).values(**{**row, "channel": "page"}))
        with catalog.write():  # another day is another reminder
            catalog._writing().execute(insert(reminders_table).values(**{**row, "day": "2026-03-03"}))
        assert len(reminders_for(catalog, WANG, date(2026, 3, 2))) == 1
    finally:
        catalog.close()


# ─────────────────────────────────────────── addresses ───────────────────────────────────────────

def test_users_email_sets_and_clears_an_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _home(tmp_path / "home", "")
    catalog = open_store(settings)
    try:
        _people(catalog)
    finally:
        catalog.close()
    monkeypatch.setenv("GONGU_HOME", str(settings.home))

    def email_of(username: str) -> str | None:
        catalog = open_store(settings)
        try:
            account = get_account(catalog, username)
            assert account is not None
            return account.email
        finally:
            catalog.close()

    result = runner.invoke(app, ["users", "email", "zhou", "zhou.jing@firm.example"])
    assert result.exit_code == 0, result.output
    assert email_of("zhou") == "zhou.jing@firm.example"
    for bad in ("zhou.jing", "周静 <zhou@firm.example>", "zhou@", "zhou jing@firm.example"):
        result = runner.invoke(app, ["users", "email", "zhou", bad])
        assert result.exit_code == 2 and "电子邮件地址无效" in result.output, (bad, result.output)
    assert email_of("zhou") == "zhou.jing@firm.example"  # a refused address changes nothing
    result = runner.invoke(app, ["users", "email", "nobody", "a@firm.example"])
    assert result.exit_code == 2 and "没有账户 nobody" in result.output
    result = runner.invoke(app, ["users", "email", "zhou", "--clear"])
    assert result.exit_code == 0 and email_of("zhou") is None


# ──────────────────────────────────────── the SMTP session ────────────────────────────────────────

def _only_wang(now: datetime) -> list[DueItem]:
    return [s for s in _steps(now) if s.case_id == "C-1"]


def test_login_uses_the_password_from_the_environment_only(tmp_path: Path, smtp_port: int,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def authenticator(server, session, envelope, mechanism, auth_data):  # noqa: ANN001, ANN202
        ok = isinstance(auth_data, LoginPassword) and auth_data.login in ("gongu", b"gongu") \
            and auth_data.password in ("s3cret-pw", b"s3cret-pw")
        return AuthResult(success=ok, handled=False)  # not handled: the server answers 535 itself

    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=smtp_port, authenticator=authenticator,
                            auth_require_tls=False, auth_exclude_mechanism=["LOGIN"])  # AUTH PLAIN, as smtplib first tries
    controller.start()
    settings = _home(tmp_path / "home", _mail_toml(smtp_port) + 'username = "gongu"\n')
    catalog = open_store(settings)
    try:
        _people(catalog)
        monkeypatch.delenv("GONGU_MAIL_PASSWORD", raising=False)
        [missing] = scan(settings, catalog, _only_wang(MON_0900), MON_0900).digests
        assert missing.error is not None and "GONGU_MAIL_PASSWORD" in missing.error
        monkeypatch.setenv("GONGU_MAIL_PASSWORD", "wrong-password")
        [refused] = scan(settings, catalog, _only_wang(MON_0900), MON_0900).digests
        assert refused.error is not None and "拒绝登录" in refused.error and "wrong-password" not in refused.error
        assert box.messages == [] and reminders_for(catalog, WANG, date(2026, 3, 2))[0].sent_at is None
        monkeypatch.setenv("GONGU_MAIL_PASSWORD", "s3cret-pw")
        [sent] = scan(settings, catalog, _only_wang(MON_0900), MON_0900).digests
        assert sent.sent and len(box.messages) == 1
    finally:
        catalog.close()
        controller.stop()


def test_starttls_refused_by_the_server_is_a_failure_not_a_plain_text_send(tmp_path: Path, inbox: Inbox,
                                                                           smtp_port: int) -> None:
    toml = _mail_toml(smtp_port).replace('security = "none"', 'security = "starttls"')
    settings = _home(tmp_path / "home", toml)
    catalog = open_store(settings)
    try:
        _people(catalog)
        [digest] = scan(settings, catalog, _only_wang(MON_0900), MON_0900).digests
        assert not digest.sent and digest.error is not None and "STARTTLS" in digest.error
        assert inbox.messages == []
    finally:
        catalog.close()


# ─────────────────────────────── from the work queue (daily_scan, gongu remind) ───────────────────────────────

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "slope-collapse"


def _uploaded_uncontacted(settings: Settings, catalog: Catalog) -> str:
    """The slope-collapse example, uploaded by 王志强 before any contact or survey: its 指派时间 is
    2025-07-12 09:40 and its site is in the city's surroundings (5.1.2, 6 hours)."""
    from gongu.pipeline.workspace import upload_case
    from tests.test_workspace_store import HANDLER, example_data, files_of

    data = example_data()
    data.pop("contact")
    data["survey"]["record_items"] = []
    for item in (*data["survey"]["photos"], *data["losses"]):
        item.pop("record_item", None)
    assert data["assigned_at"] == "2025-07-12T09:40:00"
    assert data["survey"]["location_band"] == "surrounding"
    return upload_case(catalog, settings.home, files_of(data), account=HANDLER,
                       now="2025-07-12T09:45:00+08:00").case_id


def test_the_daily_scan_reminds_of_the_work_queues_steps(firm, inbox: Inbox) -> None:  # noqa: ANN001
    settings, catalog = firm
    case_id = _uploaded_uncontacted(settings, catalog)
    # 4.4: contact due 09:40 + 30 min = 10:10; 5.1.2: arrival due 09:40 + 6 h = 15:40; writing has no limit
    daily_scan(settings, catalog, datetime(2025, 7, 12, 10, 0, tzinfo=SHANGHAI))
    [(_, to, msg)] = inbox.messages
    assert to == ["wang@firm.example"] and msg["Subject"] == "Gongu 待办提醒 2025-07-12：一日内到期 2 项"
    assert _body(msg).count(f"案件 {case_id} ·") == 2
    assert (f"1. 案件 {case_id} · 联系被保险人\n   到期：2025-07-12 10:10　剩 10 分钟　依据：4.4\n"
            f"2. 案件 {case_id} · 到达现场查勘\n   到期：2025-07-12 15:40　剩 5.7 小时　依据：5.1.2\n") in _body(msg)

    # 16:00 the same day both are overdue, but were reminded today already
    assert daily_scan(settings, catalog, datetime(2025, 7, 12, 16, 0, tzinfo=SHANGHAI)).digests == ()
    assert len(inbox.messages) == 1
    # next morning 09:00: overdue by 22 h 50 min and 17 h 20 min
    daily_scan(settings, catalog, datetime(2025, 7, 13, 9, 0, tzinfo=SHANGHAI))
    msg = inbox.messages[1][2]
    assert msg["Subject"] == "Gongu 待办提醒 2025-07-13：逾期 2 项"
    assert (f"1. 案件 {case_id} · 联系被保险人\n   到期：2025-07-12 10:10　逾期 22.8 小时　依据：4.4\n"
            f"2. 案件 {case_id} · 到达现场查勘\n   到期：2025-07-12 15:40　逾期 17.3 小时　依据：5.1.2\n") in _body(msg)


def test_gongu_remind_prints_what_was_or_would_be_sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _home(tmp_path / "home", '[people]\nnames = ["王志强", "周静"]\n')  # no [mail]: the page only
    catalog = open_store(settings)
    try:
        _people(catalog)
        case_id = _uploaded_uncontacted(settings, catalog)
    finally:
        catalog.close()
    monkeypatch.setenv("GONGU_HOME", str(settings.home))

    dry = runner.invoke(app, ["remind", "--dry-run", "--json"])  # the wall clock: both steps long overdue
    assert dry.exit_code == 0, dry.output
    report = json.loads(dry.output)
    assert report["dry_run"] is True and report["mail_configured"] is False
    [digest] = report["digests"]
    assert (digest["person"], digest["channel"], digest["sent"]) == (WANG, "page", False)
    assert [(i["case_id"], i["stage"], i["overdue"], i["clause"]) for i in digest["items"]] == [
        (case_id, "contact", True, "4.4"), (case_id, "survey", True, "5.1.2")]

    done = runner.invoke(app, ["remind"])
    assert done.exit_code == 0, done.output
    assert "王志强：2 项，已记录于待办页面" in done.output and "联系被保险人" in done.output
    again = runner.invoke(app, ["remind", "--json"])
    assert again.exit_code == 0 and json.loads(again.output)["digests"] == []
    assert json.loads(again.output)["already_reminded_today"] == 2


def test_the_queue_page_lists_todays_reminders_of_cases_the_account_sees(firm, inbox: Inbox) -> None:  # noqa: ANN001
    from starlette.testclient import TestClient

    from gongu.web.app import create_app
    from tests.webkit import csrf_from

    settings, catalog = firm
    case_id = _uploaded_uncontacted(settings, catalog)
    # today (the page's day): assigned 2025-07-12, so the contact (4.4) and the arrival (5.1.2) are overdue
    result = daily_scan(settings, catalog, datetime.now(SHANGHAI))
    assert [len(d.items) for d in result.digests] == [2]

    from archive.accounts import set_password

    for username in ("wang", "zhou"):  # each person's own password: every page open to them
        set_password(catalog, username, PASSWORD, own=True, now=datetime.now(SHANGHAI))

    def queue_page(username: str) -> str:
        with TestClient(create_app(settings.home, workers=0), base_url="http://127.0.0.1") as client:
            token = csrf_from(client.get("/login").text)
            r = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                            follow_redirects=False)
            assert r.status_code == 303, r.text
            return client.get("/queue").text

    page = queue_page("wang")
    section = page[page.index('id="reminders"'):page.index('id="queue"')]
    assert section.count(f">{case_id}</a>") == 2
    assert "联系被保险人" in section and "到达现场查勘" in section and "已发邮件" in section
    # 周静 (a proofreader) was reminded of nothing and may not open the draft: no section
    assert 'id="reminders"' not in queue_page("zhou")


# ─────────────────────── a review step held by a role (no reviewer assigned, 9.3) ───────────────────────

LI, SUN, CHEN = "赵丽", "孙立军", "陈晓梅"  # 陈晓梅 is the example's second handler
EARLIER = datetime(2026, 2, 20, 9, 0, tzinfo=SHANGHAI)  # older than the 72-hour grant delay by 2 March


@pytest.fixture
def review_firm(store_settings: Settings):  # noqa: ANN201
    """Both stores; a people register (a review is recorded under a registered name) and the accounts below."""
    text = (store_settings.home / "gongu.toml").read_text(encoding="utf-8")
    names = [WANG, ZHOU, LI, SUN, CHEN, "刘建国", "吴敏", "方圆", "王五"]
    settings = _home(store_settings.home, text + f"[people]\nnames = {json.dumps(names, ensure_ascii=False)}\n")
    catalog = open_store(settings)

    def add(username: str, person: str, roles: set[str], *, when: datetime = EARLIER, own: bool = True) -> None:
        add_account(catalog, username, password=PASSWORD, roles=roles, person=person, now=when)
        if own:  # the person set their own password
            set_password(catalog, username, PASSWORD, own=True, now=when)

    try:
        add("wang", WANG, {"handler", "proofreader"})  # uploads the case; proofreads other cases
        add("zhao", LI, {"proofreader", "rechecker"})
        add("zhao-b", LI, {"proofreader"})  # 赵丽's second account: still one reminder for her
        add("sun", SUN, {"rechecker"})  # 复核 only
        add("chen2", CHEN, {"proofreader"})  # a handler named on the case (9.3: never its reviewer)
        add("liu", "刘建国", {"proofreader"})
        set_disabled(catalog, "liu")
        add("wu", "吴敏", {"proofreader"}, when=MON_0900 - timedelta(hours=1))  # role granted an hour ago
        add("zhou", ZHOU, {"proofreader"}, own=False)  # the password an admin set: her own first
        add("fang", "方圆", {"reviewer"})  # 鉴定复核: the forensic kind's 复核, not a survey's
        add("boss", "王五", {"supervisor"})
        set_email(catalog, "zhao", "zhao@firm.example")
        yield settings, catalog
    finally:
        catalog.close()


def _submitted(settings: Settings, catalog: Catalog) -> str:
    """The slope-collapse example uploaded by 王志强 (account wang) and put forward: waiting at 校对, nobody
    assigned."""
    from archive.workspace import get_case
    from gongu.pipeline.workspace import submit_case, upload_case
    from tests.test_workspace_store import HANDLER, example_data, files_of

    case_id = upload_case(catalog, settings.home, files_of(example_data()), account=HANDLER,
                          now="2026-03-02T08:00:00+08:00").case_id
    submit_case(catalog, settings.home, case_id, account=HANDLER, now="2026-03-02T08:10:00+08:00")
    row = get_case(catalog, case_id)
    assert row is not None and (row.status, row.next_level) == ("in_review", "proofread")
    return case_id


def _everyone_else(catalog: Catalog, day: date, *people: str) -> list[str]:
    return [f"{p}:{r.case_id}" for p in people for r in reminders_for(catalog, p, day)]


def test_a_review_step_held_by_a_role_is_reminded_to_each_person_who_may_decide_it(review_firm, inbox: Inbox) -> None:  # noqa: ANN001
    from gongu.pipeline.workspace import review_case
    from tests.test_workspace_store import Acct

    settings, catalog = review_firm
    case_id = _submitted(settings, catalog)
    # 校对 due 11:00 (set by hand): at 09:00 two hours left, due within a day; listed twice, reminded once
    proofread = _step(case_id, "proofread", "校对", "", datetime(2026, 3, 2, 11, 0, tzinfo=SHANGHAI), MON_0900,
                      clause="9.3")
    result = scan(settings, catalog, [proofread, proofread], MON_0900)

    # only 赵丽 may decide it: 王志强 uploaded it and 陈晓梅 is its handler (9.3), 孙立军 and 方圆 hold other
    # roles, 刘建国's account is disabled, 吴敏's role is an hour old and 周静 has not set her own password
    # (neither takes part in a review decision yet: archive/accounts.py decision_blocker)
    assert [(d.person, d.channel, d.sent) for d in result.digests] == [(LI, "mail", True)]
    assert result.skipped == ()
    [(_, to, msg)] = inbox.messages
    assert to == ["zhao@firm.example"] and msg["Subject"] == "Gongu 待办提醒 2026-03-02：一日内到期 1 项"
    assert f"1. 案件 {case_id} · 校对\n   到期：2026-03-02 11:00　剩 2.0 小时　依据：9.3\n" in _body(msg)
    assert [(r.case_id, r.stage, r.time_left) for r in reminders_for(catalog, LI, date(2026, 3, 2))] == [
        (case_id, "proofread", "剩 2.0 小时")]
    assert _everyone_else(catalog, date(2026, 3, 2), WANG, CHEN, SUN, "方圆", "刘建国", "吴敏", ZHOU, "王五") == []

    # the same step again that day: never a second reminder
    again = scan(settings, catalog, [proofread], MON_0900)
    assert again.digests == () and again.already == 1 and len(inbox.messages) == 1

    # 赵丽 passes 校对 at 09:30; 复核 (due 16:00) is then 孙立军's alone: 赵丽 holds the role too but took 校对
    # in this round (one person, one level), and the stale 校对 step has nobody left to remind
    review_case(catalog, settings.home, case_id, account=Acct(2, "zhao", LI, frozenset({"proofreader", "rechecker"})),
                level="proofread", decision="approve", comment=None, now="2026-03-02T09:30:00+08:00",
                settings=settings)
    recheck = _step(case_id, "recheck", "复核", "", datetime(2026, 3, 2, 16, 0, tzinfo=SHANGHAI), MON_1500,
                    clause="9.3")
    later = scan(settings, catalog, [recheck, proofread], MON_1500)
    assert [(d.person, d.channel, [r.stage for r in d.items]) for d in later.digests] == [(SUN, "page", ["recheck"])]
    assert later.skipped == (f"{case_id}·校对",)
    assert [r.stage for r in reminders_for(catalog, LI, date(2026, 3, 2))] == ["proofread"]
    assert [(r.stage, r.time_left) for r in reminders_for(catalog, SUN, date(2026, 3, 2))] == [("recheck", "剩 1.0 小时")]
    assert len(inbox.messages) == 1  # 孙立军 has no address: the queue page only


def test_an_assigned_review_step_is_reminded_to_its_reviewer_alone(review_firm, inbox: Inbox) -> None:  # noqa: ANN001
    from gongu.pipeline.assigning import assign_case
    from tests.test_workspace_store import Acct

    settings, catalog = review_firm
    case_id = _submitted(settings, catalog)
    assign_case(catalog, case_id, duty="proofread", assignee="zhao-b", reason="专业对口",
                account=Acct(9, "boss", "王五", frozenset({"supervisor"})), now="2026-03-02T08:20:00+08:00",
                expected_version=None, home=settings.home)
    steps = [i for i in daily_scan_steps(settings, catalog, MON_0900) if i.case_id == case_id]
    assert [(i.stage, i.person) for i in steps] == [("proofread", LI)]
    held = _step(case_id, "proofread", "校对", LI, datetime(2026, 3, 2, 11, 0, tzinfo=SHANGHAI), MON_0900, clause="9.3")
    result = scan(settings, catalog, [held], MON_0900)
    assert [d.person for d in result.digests] == [LI]
    assert _everyone_else(catalog, date(2026, 3, 2), WANG, CHEN, SUN, "吴敏", ZHOU) == []


def daily_scan_steps(settings: Settings, catalog: Catalog, now: datetime) -> list[DueItem]:
    from gongu.pipeline.queue import open_steps

    return open_steps(settings, catalog, now=now)
