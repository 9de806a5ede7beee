"""Settings: data root from GONGU_HOME (default ./gongu-data) and an optional gongu.toml there, read into
a typed model that rejects unknown keys — as strict as the case file, so a misspelt key is an error that
names it (`signing.tsa_ur`), never silently ignored. Secrets (key passphrases) never come from here —
only the environment or a prompt."""

from __future__ import annotations

import difflib
import functools
import os
import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from generator.persons import person_key
from gongu.output import GonguError

if TYPE_CHECKING:
    from archive.catalog_server import ServerStore
    from signing.seal import SigningConfig

CONFIG_NAME = "gongu.toml"


class SettingsError(GonguError):
    """gongu.toml is unreadable or invalid: every problem names its key (dotted: `signing.tsa_url`);
    exit code 2. Plain text: values are quoted verbatim."""

    plain = True


class UnknownPerson(GonguError):
    """A --by / --reviewer name that is not registered in gongu.toml people.names; exit code 2."""

    plain = True


class _Section(BaseModel):
    # strict: TOML already has types; "yes" is not a boolean and "50" is not a number.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class PathsSettings(_Section):
    index: str = Field("index", description="检索索引目录")


class RenderSettings(_Section):
    templates: str | None = Field(None, description="机构模板目录（覆盖 forms/templates）")


class IndexSettings(_Section):
    # None: the engine of the home's existing index, else tantivy (index/api.py choose_engine).
    backend: Literal["whoosh", "tantivy", "postgresql"] | None = Field(None, description="检索引擎")

    @field_validator("backend", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


class RetentionOverride(_Section):
    """A firm may keep a class longer, never shorter than the law (forms/retention.toml, 10.4)."""

    years: int
    title: str | None = None
    basis: str | None = None


class ArchiveSettings(_Section):
    root: str = "archive/packages"
    catalog: str = "archive/catalog.sqlite"
    checkpoint_dir: str = "archive/checkpoints"
    checkpoint_every: int = Field(50, ge=1, description="每多少个新事件签署一次检查点")
    retention: dict[str, RetentionOverride] = Field(default_factory=dict)

    @field_validator("retention")
    @classmethod
    def _within_the_law(cls, value: dict[str, RetentionOverride]) -> dict[str, RetentionOverride]:
        from archive.retention import load_classes

        load_classes(cls.retention_table(value))  # RetentionConfigError is a ValueError: reported on the key
        return value

    @staticmethod
    def retention_table(value: dict[str, RetentionOverride]) -> dict[str, Any]:
        return {name: o.model_dump(exclude_none=True) for name, o in value.items()}


class StoreSettings(_Section):
    """Where the catalog, the event log (and, with a server, the search index and accounts) live.
    Absent: the embedded SQLite file `[archive] catalog`. A PostgreSQL URL: a server shared
    by every office (docs/deployment.md); the packages stay on `[archive] root`, which every office
    mounts. A password belongs in PGPASSWORD or ~/.pgpass (libpq reads both), not in this file; a URL
    is never printed with its password."""

    url: str | None = Field(None, description="目录数据库地址 postgresql://用户@主机:端口/库名")
    pool_size: int = Field(5, ge=1, le=100, description="每个进程的连接池大小")
    connect_timeout: int = Field(10, ge=1, le=600, description="建立连接的超时（秒）")
    statement_timeout: int = Field(120, ge=0, le=86400, description="单条语句（含等待写锁）的超时（秒），0 为不限")

    @field_validator("url")
    @classmethod
    def _postgresql(cls, value: str | None) -> str | None:
        from archive.catalog_server import is_server_url, redact, sqlalchemy_url

        if value is None:
            return None
        if not is_server_url(value):
            raise ValueError("须为 postgresql://用户@主机:端口/库名（only PostgreSQL servers; leave [store] out "
                             "for the embedded SQLite catalog）")
        try:
            url = sqlalchemy_url(value)
        except Exception:  # sqlalchemy's ArgumentError / ValueError on a malformed URL
            raise ValueError(f"无法解析的数据库地址：{redact(value)}") from None
        if not url.database:
            raise ValueError("缺少数据库名（database name missing）")
        return value


class SigningSettings(_Section):
    firm_p12: str = Field(description="机构签章密钥（PKCS#12）")
    handlers: dict[str, str] = Field(default_factory=dict, description="承办人员姓名 → 密钥文件")
    firms: dict[str, str] = Field(default_factory=dict, description="机构名称 → 密钥文件")
    tsa_url: str | None = None
    seal_image: str | None = None
    ltv: bool = False
    trust_roots: list[str] = Field(default_factory=list)
    crls: list[str] = Field(default_factory=list)
    fetch_revocation: bool = False
    location: str | None = None
    cross_page_seal: bool = Field(False, description="骑缝章：每页右侧边缘加盖印章的一条")

    def to_config(self, base: Path) -> SigningConfig:
        """Paths resolved against `base` (GONGU_HOME, or the demo key folder)."""
        from signing.seal import SigningConfig

        def p(raw: str) -> Path:
            return resolve(base, raw)

        return SigningConfig(
            firm_p12=p(self.firm_p12), handlers={k: p(v) for k, v in self.handlers.items()},
            tsa_url=self.tsa_url or None, seal_image=p(self.seal_image) if self.seal_image else None,
            ltv=self.ltv, trust_roots=tuple(p(x) for x in self.trust_roots), crls=tuple(p(x) for x in self.crls),
            fetch_revocation=self.fetch_revocation, location=self.location or None,
            firms={k: p(v) for k, v in self.firms.items()},
            cross_page_seal=self.cross_page_seal,
        )


class PeopleSettings(_Section):
    """The persons who may propose, approve or execute a disposal and record reviews — until the web
    workspace brings accounts. Names as people write them; compared by `person_key`."""

    names: list[str] = Field(default_factory=list, description="登记的人员姓名")

    @field_validator("names")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        seen: dict[str, str] = {}
        for name in value:
            key = person_key(name)
            if not key:
                raise ValueError(f"姓名为空（empty name: {name!r}）")
            if key in seen:
                raise ValueError(f"「{name}」与「{seen[key]}」是同一人（duplicate person after normalisation）")
            seen[key] = name
        return value

    def find(self, name: str) -> str | None:
        """The registered spelling of `name`, or None when no registered person has that name."""
        key = person_key(name)
        return next((n for n in self.names if person_key(n) == key), None) if key else None

    def require(self, name: str, role: str = "操作人") -> str:
        """The registered spelling of the person acting; UnknownPerson (exit 2) when not registered.
        Until the web workspace brings accounts, the register is what makes two approvals (or two
        review levels) two different persons (9.3)."""
        found = self.find(name)
        if found is None:
            registered = "、".join(self.names) or "尚无登记人员"
            raise UnknownPerson(f"{role}「{name}」不是 gongu.toml 的 people.names 中登记的人员"
                                f"（not a registered person）；已登记：{registered}")
        return found


class WebSettings(_Section):
    """The web workspace: cookies marked Secure only behind HTTPS (a reverse proxy with TLS);
    off by default because the embedded server listens on loopback over plain HTTP."""

    secure_cookies: bool = Field(False, description="会话 Cookie 仅经 HTTPS 发送")
    session_hours: int = Field(8, ge=1, le=24 * 7, description="会话有效小时数")
    # The address the public check page is reached at from outside the firm, printed in the QR code of
    # every issued document (`<public_url>/v/<code>`); the default is `gongu web` on loopback, for one machine and the demo.
    public_url: str = Field("http://127.0.0.1:8080", description="公开校验页地址（印在二维码中）",
                            pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
    # The public check page (/v/<code>, no login): requests per client and minute before 429, counted in the
    # catalog so every web process shares the count; and the largest PDF it accepts to compare.
    check_requests_per_minute: int = Field(30, ge=1, le=10_000, description="公开校验页每个终端每分钟请求数上限")
    check_upload_mib: int = Field(20, ge=1, le=200, description="公开校验页上传文件大小上限（MiB）")


class AccountsSettings(_Section):
    """Two-person decisions: a new account, a role granted or a password an admin set counts in a
    disposal, hold release or review level only once a second admin confirmed it or this many hours
    passed with the grant listed on every admin's accounts page."""

    grant_delay_hours: int = Field(72, ge=0, le=24 * 90, description="授予生效等待小时数")


class CalendarSettings(_Section):
    """The firm's holiday-calendar year files (YYYY.toml), which win over the shipped years
    (generator/forensic/holiday_calendar.py); relative to GONGU_HOME. A missing folder means none."""

    dir: str = Field("calendar", description="节假日日历年度文件目录")


class NumberingSettings(_Section):
    """Case ids of cases created in the workspace (/cases/new): a pattern per kind with `{yyyymmdd}`,
    `{yyyy}`, `{mm}`, `{dd}` (the Beijing day the case is created) and `{seq}` (1, 2, … under the same
    prefix; `{seq:03}` pads it). The id must stay a safe folder name (letters, digits, . _ -)."""

    survey: str = Field("SA-GC-{yyyymmdd}-{seq:03}", description="公估案件编号格式")
    forensic: str = Field("SJ-{yyyy}-{seq:04}", description="司法鉴定案件编号格式")

    @field_validator("survey", "forensic")
    @classmethod
    def _pattern(cls, value: str) -> str:
        if "{seq" not in value:
            raise ValueError("编号格式须含 {seq}（顺序号）")
        probe = re.sub(r"\{(yyyymmdd|yyyy|mm|dd|seq(:0?\d+)?)\}", "0", value)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", probe):
            raise ValueError("编号格式只能含字母、数字、. _ - 与 {yyyymmdd} {yyyy} {mm} {dd} {seq}")
        return value


class DraftingSettings(_Section):
    """What a case created in the workspace starts with: the firm (survey, $.firm) or the institution
    (forensic, $.institution) as the case file records it — copied into each new case, editable there."""

    firm: dict[str, str] = Field(default_factory=dict, description="公估机构信息")
    institution: dict[str, Any] = Field(default_factory=dict, description="鉴定机构信息")


MAIL_PASSWORD_ENV = "GONGU_MAIL_PASSWORD"


class MailSettings(_Section):
    """The SMTP server the daily reminder digests go through (gongu/pipeline/mailing.py). Absent: the
    reminders are shown on the queue page only. The password comes only from the environment
    (GONGU_MAIL_PASSWORD), never from this file."""

    host: str = Field(description="SMTP 服务器地址", min_length=1)
    port: int = Field(587, ge=1, le=65535, description="SMTP 端口")
    sender: str = Field(description="发件人地址", min_length=3)
    security: Literal["starttls", "ssl", "none"] = Field(
        "starttls", description="连接加密：starttls（587）、ssl（465）或 none（仅限本机或内网中继）")
    username: str | None = Field(None, description="SMTP 登录名；口令只从环境变量 GONGU_MAIL_PASSWORD 读取")
    timeout: int = Field(30, ge=1, le=600, description="连接与每次应答的超时（秒）")

    @model_validator(mode="before")
    @classmethod
    def _no_password_here(cls, data: Any) -> Any:
        if isinstance(data, dict) and "password" in data:
            raise ValueError(f"口令不得写入 gongu.toml：删去 mail.password，改在环境变量 {MAIL_PASSWORD_ENV} 中设置"
                             "（the SMTP password comes from the environment only）")
        return data

    @field_validator("sender")
    @classmethod
    def _address(cls, value: str) -> str:
        from archive.accounts import AccountError, check_address

        try:
            return check_address(value)
        except AccountError:
            raise ValueError(f"发件人地址无效（须为 local@domain 形式的 ASCII 地址）：{value!r}") from None

    @field_validator("security", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


class GonguToml(_Section):
    """gongu.toml, every section the code reads."""

    paths: PathsSettings = Field(default_factory=PathsSettings)
    render: RenderSettings = Field(default_factory=RenderSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    archive: ArchiveSettings = Field(default_factory=ArchiveSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    signing: SigningSettings | None = None
    people: PeopleSettings = Field(default_factory=PeopleSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    accounts: AccountsSettings = Field(default_factory=AccountsSettings)
    calendar: CalendarSettings = Field(default_factory=CalendarSettings)
    mail: MailSettings | None = None
    numbering: NumberingSettings = Field(default_factory=NumberingSettings)
    drafting: DraftingSettings = Field(default_factory=DraftingSettings)


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    home: Path
    toml: GonguToml = Field(default_factory=GonguToml)

    @property
    def paths(self) -> PathsSettings:
        return self.toml.paths

    @property
    def render(self) -> RenderSettings:
        return self.toml.render

    @property
    def index(self) -> IndexSettings:
        return self.toml.index

    @property
    def archive(self) -> ArchiveSettings:
        return self.toml.archive

    @property
    def signing(self) -> SigningSettings | None:
        return self.toml.signing

    @property
    def store(self) -> StoreSettings:
        return self.toml.store

    def server_store(self) -> ServerStore | None:
        """The PostgreSQL catalog of `[store]`, or None for the embedded SQLite file. Files kept with
        the catalog (the pinned firm certificate) go to the shared package tree `[archive] root`."""
        if self.store.url is None:
            return None
        from archive.catalog_server import ServerStore

        return ServerStore(self.store.url, files_dir=self.resolve(self.archive.root), pool_size=self.store.pool_size,
                           connect_timeout=self.store.connect_timeout, statement_timeout=self.store.statement_timeout)

    @property
    def people(self) -> PeopleSettings:
        return self.toml.people

    @property
    def web(self) -> WebSettings:
        return self.toml.web

    @property
    def accounts(self) -> AccountsSettings:
        return self.toml.accounts

    @property
    def mail(self) -> MailSettings | None:
        return self.toml.mail

    @property
    def calendar_dir(self) -> Path:
        return self.resolve(self.toml.calendar.dir)

    def resolve(self, raw: str) -> Path:
        return resolve(self.home, raw)

    def signing_config(self) -> SigningConfig | None:
        return self.signing.to_config(self.home) if self.signing else None


def resolve(base: Path, raw: str) -> Path:
    p = Path(raw).expanduser()
    return p if p.is_absolute() else base / p


# ──────────────────────────────────────────── errors ────────────────────────────────────────────

_KINDS = {
    "extra_forbidden": "未知的设置项（unknown key）",
    "missing": "缺少必填项（missing key）",
    "literal_error": "取值不在允许范围内（not one of the allowed values）",
}


def _describe(error: dict[str, Any], model: type[BaseModel]) -> str:
    loc = [str(part) for part in error["loc"]]
    key = ".".join(loc) or "(top level)"
    kind = error["type"]
    what = _KINDS.get(kind)
    if what is None:
        if kind.endswith("_type") or kind.endswith("_parsing"):
            what = f"类型错误（wrong type: {error['msg']}）"
        else:
            what = f"取值无效（invalid value: {error['msg']}）"
    elif kind == "literal_error":
        what += f"：{error['msg']}"
    line = f"{key}：{what}"
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(loc[-1], _known_keys(model, loc[:-1]), n=1)
        if close:
            line += f"；是否应为 {'.'.join([*loc[:-1], close[0]])}？（did you mean {close[0]}?）"
    if kind != "missing" and "input" in error and not isinstance(error["input"], dict):
        value = error["input"]
        if loc == ["store", "url"] and isinstance(value, str):  # never print a password
            from archive.catalog_server import redact

            value = redact(value)
        line += f"；值 value = {value!r}"
    return line


def _known_keys(model: type[BaseModel], path: list[str]) -> list[str]:
    current: Any = model
    for part in path:
        field = current.model_fields.get(part) if isinstance(current, type) and issubclass(current, BaseModel) else None
        if field is None:
            return []
        annotation = field.annotation
        current = next((a for a in getattr(annotation, "__args__", ()) if isinstance(a, type)
                        and issubclass(a, BaseModel)), annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def parse_config(text: str, source: str = CONFIG_NAME) -> GonguToml:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{source} 不是有效的 TOML（invalid TOML）：{exc}") from None
    try:
        return GonguToml.model_validate(data)
    except ValidationError as exc:
        lines = [_describe(e, GonguToml) for e in exc.errors(include_url=False)]  # type: ignore[arg-type]
        raise SettingsError(f"{source} 设置有误（invalid settings）：\n  " + "\n  ".join(lines)) from None


def home_dir(home: str | Path | None = None) -> Path:
    """GONGU_HOME (default ./gongu-data), absolute."""
    return Path(home or os.environ.get("GONGU_HOME") or "gongu-data").expanduser().resolve()


def load_settings(home: str | Path | None = None) -> Settings:
    root = home_dir(home)
    config_file = root / CONFIG_NAME
    toml = GonguToml()
    if config_file.is_file():
        try:
            text = config_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"无法读取 {config_file}（cannot read settings）：{exc}") from None
        toml = parse_config(text, str(config_file))
    return Settings(home=root, toml=toml)


def use_home_calendar(settings: Settings | None = None) -> None:
    """Count time limits on the shipped years plus this home's year files. Without `settings` (a CLI
    command), the current GONGU_HOME's gongu.toml is read when a time limit is first counted, once for
    the command: a command that counts none never reads it, one that counts many reads it once."""
    from generator.forensic.holiday_calendar import use_calendar

    if settings is not None:
        use_calendar(settings.calendar_dir)
        return

    @functools.cache
    def home_calendar_dir() -> Path:
        return load_settings().calendar_dir

    use_calendar(home_calendar_dir)
