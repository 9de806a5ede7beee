"""`gongu issue` as one explicit pipeline: decide → render → seal → publish → record (`issue_case`).

The domain decisions (may it be issued, the reissue number) are generator.issuance's; this module only
composes them with rendering, sealing and the file system. The signer is a parameter: nothing registers
itself at import time, so `issue_case` does the same from the CLI, a test or the web workspace.
Without a signer a report is refused, unless the caller asks for an unsealed copy, which is marked as
such on every page and in the case file.

A forensic appraisal issues several documents at once: the 司法鉴定意见书 (primary) and the
documents of the case (委托书, 告知书, records, 补正书 …), all rendered, all sealed — the 意见书 and each
补正书 by the institution and their appraisers, the others by the institution alone (signing.signers) —
before any is published; one `Issuance` records the primary's files and hashes and `documents` the rest.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal, Protocol

from generator.casefile import atomic_write, dump_case_data, read_case_data, write_case_data
from generator.check_code import DocumentCodes, new_check_code
from generator.clock import SYSTEM_CLOCK, Clock
from generator.forensic.issued import IssuedOpinion
from generator.forensic.model import ForensicAppraisalCase
from generator.issuance import (
    IssueRefused,
    finding_reason,
    first_issue_problems,
    issuance_entry,
    issuance_findings,
    reissued_data,
)
from generator.kinds import Case, is_forensic
from generator.loading import LoadedCase, load_case, validate_data
from generator.qc_sheet import render_qc_sheet
from generator.review import level_titles, review_clause, review_state
from generator.rules import Finding, run_rules
from generator.types import beijing_date
from gongu.pipeline.issued_opinion import archived_package, find_issued_opinion
from gongu.pipeline.templates import firm_templates
from gongu.settings import Settings, load_settings

# Printed on every page of a copy issued without the signatures (PDF and DOCX).
UNSEALED_MARK = "未签章副本 — 非正式报告"


class ReportSigner(Protocol):
    """Seals a rendered report PDF into `output` (PAdES: firm seal, then each handler); `case_raw` is
    the case file as JSON, naming the handlers who sign. Raises signing.seal.SealError when it cannot.

    For a forensic case `seal` is also given `role` (signing.signers: "report", "correction-<n>",
    "institution") and the document's `title`; a survey report is sealed without them."""

    def seal(self, pdf: Path, output: Path, case_raw: dict[str, Any], *, role: str | None = None,
             title: str | None = None) -> Path: ...


class CaseDocument(Protocol):
    """One rendered document of a case (generator.render.RenderedDocument)."""

    key: str
    title: str
    pdf: Path | None
    docx: Path | None
    primary: bool


# (the case as it goes into the report, scratch folder, templates, mark, check codes to print) → {"pdf": …, "docx": …}
Renderer = Callable[[LoadedCase, Path, Path | None, str | None, DocumentCodes | None], dict[str, Path]]
# The same for a kind with several documents (the forensic kind): every applicable document.
DocumentsRenderer = Callable[[LoadedCase, Path, Path | None, str | None, DocumentCodes | None], list[CaseDocument]]
_UNSAFE_KEY = re.compile(r"[^A-Za-z0-9_.-]+")


class IssueFileExists(Exception):
    """A report with this number is already on disk: never overwritten (usage error, exit 2)."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        super().__init__("文件已存在，不覆盖已出具的报告：" + "、".join(paths))


@dataclass(frozen=True)
class IssueResult:
    number: str
    supersedes: str | None
    files: dict[str, Path]
    qc_sheet: Path
    case_file: Path
    sealed: bool
    # The documents issued with the primary one (forensic kind): key → (title, {"pdf": …, "docx": …}).
    documents: dict[str, tuple[str, dict[str, Path]]] = field(default_factory=dict)


def default_out_dir(case: Case, settings: Settings | None = None) -> Path:
    return (settings or load_settings()).home / "issued" / case.case_id


def render_files(loaded: LoadedCase, work_dir: Path, templates: Path | None, mark: str | None,
                 codes: DocumentCodes | None = None) -> dict[str, Path]:
    """The real renderer (WeasyPrint PDF/A-3b + DOCX), imported on use: it takes ~1 s to load."""
    from generator.render import render_report

    result = render_report(loaded, work_dir, formats=("pdf", "docx"), templates=templates, mark=mark, codes=codes)
    assert result.pdf is not None and result.docx is not None
    return {"pdf": Path(result.pdf), "docx": Path(result.docx)}


def render_documents(loaded: LoadedCase, work_dir: Path, templates: Path | None, mark: str | None,
                     codes: DocumentCodes | None = None) -> list[CaseDocument]:
    """Every applicable document of the case (generator.render.render_case_documents), PDF and DOCX."""
    from generator.render import render_case_documents

    return list(render_case_documents(loaded, work_dir, formats=("pdf", "docx"), templates=templates, mark=mark,
                                      codes=codes))


def draw_codes(keys: list[str] | set[str], settings: Settings) -> DocumentCodes:
    """A fresh check code for each document key (generator.check_code), drawn before rendering so each is
    printed on its document and recorded with the issuance; never derived from the case, never reused."""
    codes: dict[str, str] = {}
    for key in sorted(keys):
        code = new_check_code()
        while code in codes.values():  # 100 random bits: a repeat within one issuance is only in theory
            code = new_check_code()
        codes[key] = code
    return DocumentCodes(settings.web.public_url, codes)


def document_keys(staged: LoadedCase) -> list[str]:
    """The keys of the documents an issue of the case renders: "report" for a survey; the forensic registry's."""
    if not is_forensic(staged.case):
        return ["report"]
    from generator.forensic.documents import build_documents

    return [d.key for d in build_documents(staged.case, staged.source.parent.resolve())]  # type: ignore[arg-type]


def signer_problems(data: dict[str, Any]) -> list[str]:
    """A forensic case whose 意见书 or 补正书 has too few signing appraisers cannot be sealed: refused before
    anything is rendered (通则 Art 19: two appraisers per matter; Art 41: a 补正书 at least one)."""
    return [finding_reason(f) for f in signer_findings(data)]


def signer_findings(data: dict[str, Any]) -> list[Finding]:
    """`signer_problems` as findings (rule id forensic.issue.signers)."""
    from signing.signers import ROLE_REPORT, SIGNED_STEPS, document_signers, is_forensic

    if not is_forensic(data):
        return []
    # A terminated appraisal issues no opinion (its primary is the 终止鉴定告知书, the institution's alone).
    roles = [] if data.get("termination") else [ROLE_REPORT]
    roles += [f"correction-{i}" for i in range(1, len(data.get("corrections") or []) + 1)]
    roles += [f"supplementary-{i}" for i in range(1, len(data.get("supplementary") or []) + 1)]
    # Sichuan 五(一): a 调解记录 is signed by the parties who took part, a 解释说明 by its appraisers.
    wheres = {}
    for i, d in enumerate(data.get("disputes") or [], start=1):
        for j, st in enumerate((d.get("steps") or []) if isinstance(d, dict) else [], start=1):
            if isinstance(st, dict) and st.get("kind") in SIGNED_STEPS:
                roles.append(f"dispute-{i}-step-{j}")
                field = "participants" if st.get("kind") == "mediation" else "appraisers"
                wheres[roles[-1]] = f"$.disputes[{i - 1}].steps[{j - 1}].{field}"
    out: list[Finding] = []
    for role in roles:
        document = document_signers(data, role)
        if refusal := document.too_few():
            n = int(role.split("-")[1]) - 1 if "-" in role else 0
            where = wheres.get(role) or ("$.report.signatures" if role == ROLE_REPORT else f"$.corrections[{n}].signed_by"
                                         if role.startswith("correction-") else f"$.supplementary[{n}].appraisers")
            assert document.minimum is not None
            out.append(Finding("forensic.issue.signers", document.minimum[1], "blocking", where, refusal))
    return out


def unregistered_reviewers(case: Case, settings: Settings) -> list[str]:
    """Every approval counted for this issue whose reviewer is not a registered person
    (9.3). `gongu review` refuses such names, but reviews typed into the case file by hand never pass
    through it: without this, "Mallory" or a full-width spelling could approve a report."""
    return [finding_reason(f) for f in reviewer_findings(case, settings)]


def reviewer_findings(case: Case, settings: Settings) -> list[Finding]:
    """`unregistered_reviewers` as findings (rule id issue.registered_reviewers)."""
    out: list[Finding] = []
    titles, clause = level_titles(case), review_clause(case)
    for level, review in review_state(case).approved.items():
        if settings.people.find(review.reviewer) is None:
            index = next(i for i, r in enumerate(case.reviews) if r is review)
            out.append(Finding("issue.registered_reviewers", clause, "blocking", f"$.reviews[{index}]",
                               f"{titles[level]}的审核人「{review.reviewer}」不是 gongu.toml 的 people.names 中登记的人员"
                               "（not a registered person）", review.reviewer))
    return out


# Which issuance a case is ready for next, and how `gongu check --stage issue` names it.
IssueKind = Literal["issue", "reissue", "additional"]
ISSUE_KIND_TITLES: dict[str, str] = {"issue": "首次出具（gongu issue）", "reissue": "重新出具（gongu issue --reissue）",
                                     "additional": "补充出具（gongu issue --additional）"}


def new_documents(case: Case) -> list[str]:
    """The keys of the forensic documents the case needs that no issuance of its number holds yet (cheap:
    nothing is rendered); empty for a survey case and for an opinion not yet issued."""
    if not isinstance(case, ForensicAppraisalCase):
        return []
    from generator.forensic.documents import build_documents

    mine = [i for i in case.issuances if i.number == case.report.number]
    done = {d.key for i in mine for d in i.documents}
    return [d.key for d in build_documents(case) if not d.primary and d.key not in done]


def next_issuance(case: Case) -> IssueKind:
    """The issuance the case is ready for next: the first issue; once the opinion is issued, the additional
    issue of the documents written since (forensic); otherwise a reissue."""
    if not case.issuances:
        return "issue"
    issued = any(i.number == case.report.number and i.pdf_file for i in case.issuances)
    if is_forensic(case) and issued and new_documents(case):
        return "additional"
    return "reissue"


def issue_findings(case: Case, data: dict[str, Any], settings: Settings, *, kind: IssueKind, sealing_day: date,
                   case_dir: Path | None, sealed: bool = True, today: date | None = None,
                   issued: IssuedOpinion | None = None) -> list[Finding]:
    """Every finding that decides an issuance of `kind` sealed on `sealing_day` (a Beijing date): the
    completeness rules at the "issue" stage (warnings too), approvals older than the last issuance, a
    forensic document dated another day than its sealing, approvals by unregistered persons, too few
    signers (`sealed`), and for an additional issue an archived report. `gongu issue` refuses on the
    blocking ones; `gongu check --stage issue` shows them all. For a reissue `case` and `data` are the
    case as reissued (generator.issuance.reissued_data). `issued`: the forensic opinion as issued, which a
    later document must not change (通则 Art 41; gongu.pipeline.issued_opinion finds it)."""
    findings = run_rules(case, today=today, stage="issue", case_dir=case_dir, issued=issued)
    documents = tuple(new_documents(case)) if kind == "additional" else ("opinion",)
    findings += issuance_findings(case, sealing_day=sealing_day, documents=documents)
    findings += reviewer_findings(case, settings)
    if sealed:  # too few signers: where a rule already blocks the same path (Art 19), not said twice
        blocked = {f.path for f in findings if f.blocking}
        findings += [f for f in signer_findings(data) if f.path not in blocked]
    if kind != "additional":  # a report number belongs to one report: an archived one is not issued again
        from gongu.pipeline.report_numbers import taken_number_reasons

        findings += [Finding("issue.report_number_taken", "regulations.md 报告编号", "blocking", "$.report.number", reason,
                             case.report.number) for reason in taken_number_reasons(settings, case.case_id,
                                                                                   case.report.number)]
    if kind == "additional" and archived_report(settings, case.case_id, case.report.number):
        findings.append(Finding(
            "forensic.issue.archived", "通则 Art 42", "blocking", "$.issuances",
            f"案件 {case.case_id} 的鉴定文书 {case.report.number} 已归档，档案包不再改动；补充出具的文书暂不能并入已归档的"
            "档案包（尚未支持）——请在归档前补充出具，或将新文书作为新的鉴定文书编号另行出具、归档", case.report.number))
    return findings


def staged_case(loaded: LoadedCase, day: date, reissue_reason: str | None = None) -> tuple[LoadedCase, dict[str, Any]]:
    """The case as this issue puts it into the documents, and its data: as loaded for a first issue; for
    a reissue on `day` with a new number, `supersedes` and date (generator.issuance.reissued_data),
    validated as any case file is."""
    data = read_case_data(loaded)
    if reissue_reason is None:
        return loaded, data
    data = reissued_data(data, loaded.case, reissue_reason, day)
    case = validate_data(data, str(loaded.source))
    return LoadedCase(case=case, source=loaded.source, raw=dump_case_data(data)), data


def _blocking(findings: list[Finding]) -> list[str]:
    return [finding_reason(f) for f in findings if f.blocking]


@dataclass(frozen=True)
class _Report:
    """A survey's one document, as render_documents gives a forensic case's many."""

    pdf: Path
    docx: Path
    key: str = "report"
    title: str = "公估报告"
    primary: bool = True


def issue_case(
    case_file: str | Path | LoadedCase,
    *,
    signer: ReportSigner | None,
    unsealed: bool = False,
    out_dir: str | Path | None = None,
    reissue_reason: str | None = None,
    templates: Path | None = None,
    settings: Settings | None = None,
    clock: Clock = SYSTEM_CLOCK,
    render: Renderer = render_files,
    render_many: DocumentsRenderer = render_documents,
) -> IssueResult:
    """Issue (or, with `reissue_reason`, reissue) the report of a case — a case file's path, or the case
    as the caller already loaded it. Raises IssueRefused with every reason.

    `signer` seals each PDF before anything is published; with `signer=None` the report is refused unless
    `unsealed=True`, which issues a copy marked 「未签章副本 — 非正式报告」, recorded with `sealed: false`.
    `templates` overrides the firm's configured templates (gongu.pipeline.templates decides, as for `gongu render`).
    A survey issues its report (`render`); a forensic case every document `render_many` renders (see the
    module docstring).
    """
    if signer is not None and unsealed:
        raise ValueError("unsealed=True is for issuing without a signer")
    settings = settings or load_settings()
    now = clock.now()  # the one injected clock (generator/clock.py); tests pass a FixedClock
    day = beijing_date(now)  # the day of sealing: a forensic document must carry it (通则 Art 37)

    # 1. Load once, and stage the case as this issue puts it out (a reissue: new number, supersedes).
    loaded = case_file if isinstance(case_file, LoadedCase) else load_case(case_file)
    case_path = Path(loaded.source)
    staged, data = staged_case(loaded, day, reissue_reason)
    case = staged.case
    forensic = is_forensic(case)

    # 2. Check: may this report go out (9.3). Overdue documents are judged as of the report date; photos in
    # the case's folder are decoded (5.3.1 d); a forensic reissue is held against the opinion it supersedes
    # (通则 Art 41, gongu.pipeline.issued_opinion).
    if reissue_reason is None and (problems := first_issue_problems(case)):
        raise IssueRefused(problems)
    issued = find_issued_opinion(case, settings, Path(out_dir) if out_dir is not None else None).opinion
    reasons = _blocking(issue_findings(case, data, settings, kind="reissue" if reissue_reason is not None else "issue",
                                       sealing_day=day, case_dir=case_path.parent, sealed=signer is not None,
                                       issued=issued))
    if signer is None and not unsealed:
        reasons.append("未配置签章（gongu.toml [signing]），正式报告须由公估机构盖章、承办人员签名；"
                       "如只需未签章副本，请用 --unsealed（no signer configured: a final report must be sealed）")
    if reasons:
        raise IssueRefused(reasons)
    chosen_templates = firm_templates(settings, templates)

    from generator.render import report_file_stem

    stem = report_file_stem(staged)  # the report number, made safe as a file name
    target_dir = Path(out_dir) if out_dir is not None else default_out_dir(case, settings)
    # The QC sheet is for the firm's file: kept apart from the client copies, never inside them.
    qc_target = target_dir / "internal" / f"{stem}-qc-sheet.html"
    clash = [str(p) for p in (*(target_dir / f"{stem}.{kind}" for kind in ("pdf", "docx")), qc_target) if p.exists()]
    if clash:  # an issued report is never overwritten
        raise IssueFileExists(clash)

    target_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".issue-", dir=target_dir))
    mark = None if signer else UNSEALED_MARK  # an unsealed copy is marked on every page
    # An unsealed copy carries no check code: it is not the issued report, and the public page must never vouch for it.
    codes = draw_codes(document_keys(staged), settings) if signer else None
    try:
        # 3. Render with the firm's templates: the survey report, or every document of a forensic case.
        if forensic:
            documents = render_many(staged, work / "render", chosen_templates, mark, codes)
        else:
            files = render(staged, work / "render", chosen_templates, mark, codes)
            documents = [_Report(pdf=files["pdf"], docx=files["docx"])]
        _check_coded(documents, codes)
        primaries = [d for d in documents if d.primary]
        if len(primaries) != 1:
            raise IssueRefused([f"应有一份主文书（司法鉴定意见书），渲染结果有 {len(primaries)} 份"
                                "（exactly one primary document expected）"])
        primary = primaries[0]
        # 4. Seal each PDF before anything is published: what is recorded is what the client gets.
        sealed, targets = _seal_documents(documents, data, signer, work, target_dir, stem, primary.key,
                                          forensic=forensic)
        # 5. Publish (never over an existing file) and record in the case file; undo on failure.
        qc_html = render_qc_sheet(case, stage="issue", case_dir=case_path.parent)
        published: list[Path] = []
        try:
            recorded = _publish_documents(documents, sealed, targets, published)
            qc_target.parent.mkdir(exist_ok=True)
            atomic_write(qc_target, qc_html.encode("utf-8"))
            published.append(qc_target)
            entry = issuance_entry(case, now, recorded[primary.key], sealed=signer is not None)
            if codes is not None:
                entry["check_code"] = codes.codes[primary.key]
            if forensic:
                entry["documents"] = [_document_entry(d.key, d.title, recorded[d.key], codes) for d in documents
                                      if not d.primary]
            data.setdefault("issuances", []).append(entry)
            write_case_data(case_path, data)
        except BaseException:
            for path in published:  # not recorded, so not issued: take back what this run created (only those)
                path.unlink(missing_ok=True)
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return IssueResult(number=case.report.number, supersedes=case.report.supersedes, files=targets[primary.key],
                       qc_sheet=qc_target, case_file=case_path, sealed=signer is not None,
                       documents={d.key: (d.title, targets[d.key]) for d in documents if not d.primary})


def stepped_renderers(progress: Callable[[str], None] | None) -> dict[str, Any]:
    """`render` and `render_many` for issue_case that tell `progress` each step as it begins: 渲染, then
    签章并记录 (sealing and recording follow the render in issue_case); {} without `progress`."""
    if progress is None:
        return {}

    def one(loaded: LoadedCase, work_dir: Path, templates: Path | None, mark: str | None,
            codes: DocumentCodes | None) -> dict[str, Path]:
        progress("渲染")
        files = render_files(loaded, work_dir, templates, mark, codes)
        progress("签章并记录")
        return files

    def many(loaded: LoadedCase, work_dir: Path, templates: Path | None, mark: str | None,
             codes: DocumentCodes | None) -> list[CaseDocument]:
        progress("渲染")
        documents = render_documents(loaded, work_dir, templates, mark, codes)
        progress("签章并记录")
        return documents

    return {"render": one, "render_many": many}


def archived_report(settings: Settings, case_id: str, number: str) -> bool:
    """Whether the archive catalog of `settings` holds a package of this case and report number."""
    return archived_package(settings, case_id, number) is not None


def issue_additional(
    case_file: str | Path | LoadedCase,
    *,
    signer: ReportSigner | None,
    out_dir: str | Path | None = None,
    templates: Path | None = None,
    settings: Settings | None = None,
    clock: Clock = SYSTEM_CLOCK,
    render_many: DocumentsRenderer = render_documents,
) -> IssueResult:
    """`gongu issue --additional`: issue the documents of a forensic case that arose after its opinion was
    issued (补充意见书, 异议登记表, 调解记录, 鉴定人解释说明, 专家意见 …) under the same report number.

    Every document the case needs is rendered; those already issued under this number (any earlier
    issuance's `documents`, by key) are left out; the rest are sealed — all before anything is published —
    and recorded as a new `Issuance` with the same number, no primary files and only the new documents.
    Like any issue they pass 三级审核 (通则 Art 35) after the last issuance: approvals older than it are stale.
    Refused when nothing is new, when the opinion was never issued, without a signer, and when the
    report is already archived (an archived package is never changed: a later package for the same
    number is not supported yet)."""
    settings = settings or load_settings()
    now = clock.now()
    loaded = case_file if isinstance(case_file, LoadedCase) else load_case(case_file)
    case_path = Path(loaded.source)
    data = read_case_data(loaded)
    case = loaded.case
    if not is_forensic(case):
        raise IssueRefused(["--additional 只用于司法鉴定案件（forensic_appraisal）：公估报告没有随后出具的文书"])
    number = case.report.number
    mine = [i for i in case.issuances if i.number == number]
    if not any(i.pdf_file for i in mine):
        raise IssueRefused([f"鉴定文书 {number} 尚未出具（$.issuances），请先用 gongu issue 出具"])
    new_keys = set(new_documents(case))  # cheap: no rendering
    if not new_keys:
        raise IssueRefused([f"鉴定文书 {number} 的全部文书均已出具，没有需要补充出具的文书"])
    reasons: list[str] = []
    if signer is None:
        reasons.append("未配置签章（gongu.toml [signing]）：补充出具的文书须由鉴定机构盖章（no signer configured）")
    issued, unchecked = _issued_opinion(case, settings, out_dir, new_keys)
    reasons += unchecked
    # The same conditions `gongu check --stage issue` shows for the additional issue the case is ready for.
    reasons += _blocking(issue_findings(case, data, settings, kind="additional", sealing_day=beijing_date(now),
                                        case_dir=loaded.source.parent, issued=issued))
    if reasons:
        raise IssueRefused(reasons)
    assert signer is not None
    chosen_templates = firm_templates(settings, templates)

    from generator.render import report_file_stem

    stem = report_file_stem(loaded)
    target_dir = Path(out_dir) if out_dir is not None else default_out_dir(case, settings)
    target_dir.mkdir(parents=True, exist_ok=True)
    codes = draw_codes(new_keys, settings)  # the new documents only: the others keep the codes they were issued with
    work = Path(tempfile.mkdtemp(prefix=".issue-", dir=target_dir))
    try:
        documents = [d for d in render_many(loaded, work / "render", chosen_templates, None, codes) if d.key in new_keys]
        _check_coded(documents, codes)
        files, targets = _seal_documents(documents, data, signer, work, target_dir, stem, None)
        published: list[Path] = []
        try:
            recorded = _publish_documents(documents, files, targets, published)
            entry: dict[str, Any] = {"number": number, "issued_at": now.isoformat(timespec="seconds"), "sealed": True,
                                     "documents": [_document_entry(d.key, d.title, recorded[d.key], codes)
                                                   for d in documents]}
            data.setdefault("issuances", []).append(entry)
            write_case_data(case_path, data)
        except BaseException:
            for path in published:  # not recorded, so not issued: take back what this run created
                path.unlink(missing_ok=True)
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    primary = next(i for i in mine if i.pdf_file)
    return IssueResult(number=number, supersedes=case.report.supersedes,
                       files={"pdf": target_dir / str(primary.pdf_file)}, qc_sheet=target_dir / "internal",
                       case_file=case_path, sealed=True,
                       documents={d.key: (d.title, targets[d.key]) for d in documents})


def _issued_opinion(case: Case, settings: Settings, out_dir: str | Path | None,
                    new_keys: set[str]) -> tuple[IssuedOpinion | None, list[str]]:
    """The opinion as issued, which a 补正书 issued now must not change (通则 Art 41), and the reasons to
    refuse: a 补正书 is not issued unchecked, so without the issued copy (moved, or issued to another
    folder than `out_dir`) the issue is refused, saying where it was looked for."""
    found = find_issued_opinion(case, settings, Path(out_dir) if out_dir is not None else None)
    if found.opinion is not None or not any(key.startswith("correction-") for key in new_keys):
        return found.opinion, []
    where = Path(out_dir) if out_dir is not None else default_out_dir(case, settings)
    return None, [f"[通则 Art 41] 未找到已出具的司法鉴定意见书 {case.report.number}（在 {where} 及档案中），"
                  "无法核对补正书是否改变鉴定意见；请用 -o 指明当初出具的目录"
                  "（the issued opinion was not found: a correction cannot be checked against it）", *found.problems]


def _seal_documents(documents: list[CaseDocument], data: dict[str, Any], signer: ReportSigner | None, work: Path,
                    target_dir: Path, stem: str, primary_key: str | None, *, forensic: bool = True,
                    ) -> tuple[dict[str, dict[str, Path]], dict[str, dict[str, Path]]]:
    """Seal each rendered PDF (when there is a signer) and name where each file will be published: the
    primary under the report number, the others `<number>-<key>`. Refuses a missing PDF or a name taken, and
    a signer who may not sign (signing.seal.SignerRefused: an appraiser's certificate of another organisation)."""
    from signing.seal import SignerRefused
    from signing.signers import document_role

    files: dict[str, dict[str, Path]] = {}
    targets: dict[str, dict[str, Path]] = {}
    for index, doc in enumerate(documents):
        got = {kind: Path(path) for kind, path in (("pdf", doc.pdf), ("docx", doc.docx)) if path is not None}
        if "pdf" not in got:
            raise IssueRefused([f"文书「{doc.title}」没有生成 PDF（no PDF rendered for {doc.key}）"])
        primary = doc.key == primary_key
        if signer is not None and not forensic:  # a survey report: the firm and its handlers sign
            got["pdf"] = signer.seal(got["pdf"], work / f"sealed-{index}.pdf", data)
        elif signer is not None:
            role = document_role(data, key=doc.key, title=doc.title, primary=primary)
            try:
                got["pdf"] = signer.seal(got["pdf"], work / f"sealed-{index}.pdf", data, role=role, title=doc.title)
            except SignerRefused as exc:  # e.g. an appraiser's key certified by another organisation
                raise IssueRefused(str(exc).split("；")) from None
        files[doc.key] = got
        name = stem if primary else f"{stem}-{_UNSAFE_KEY.sub('_', doc.key).strip('._') or index}"
        targets[doc.key] = {kind: target_dir / f"{name}.{kind}" for kind in got}
    clash = [str(p) for t in targets.values() for p in t.values() if p.exists()]
    if clash:  # an issued document is never overwritten
        raise IssueFileExists(clash)
    return files, targets


def _publish_documents(documents: list[CaseDocument], files: dict[str, dict[str, Path]],
                       targets: dict[str, dict[str, Path]], published: list[Path]) -> dict[str, dict[str, tuple[str, str]]]:
    """Publish every file (never over an existing one), appending each to `published` so the caller can take
    them back if recording fails; returns key → kind → (file name, SHA-256)."""
    recorded: dict[str, dict[str, tuple[str, str]]] = {}
    for doc in documents:
        recorded[doc.key] = {}
        for kind, target in targets[doc.key].items():
            _publish(files[doc.key][kind], target)
            published.append(target)
            recorded[doc.key][kind] = (target.name, _sha256(target))
    return recorded


def _document_entry(key: str, title: str, files: dict[str, tuple[str, str]],
                    codes: DocumentCodes | None = None) -> dict[str, Any]:
    """One of `Issuance.documents` (generator.model.IssuedDocument), with the check code printed on it."""
    entry: dict[str, Any] = {"key": key, "title": title}
    for kind, (name, digest) in files.items():
        entry[f"{kind}_file"] = name
        entry[f"{kind}_sha256"] = digest
    if codes is not None and (code := codes.code(key)):
        entry["check_code"] = code
    return entry


def _check_coded(documents: list[CaseDocument], codes: DocumentCodes | None) -> None:
    """Every document about to be sealed carries a drawn code: a document the renderer produced that was not
    foreseen (document_keys) would otherwise go out without one."""
    if codes is None:
        return
    if missing := [d.title for d in documents if codes.code(d.key) is None]:
        raise IssueRefused([f"文书「{t}」没有分配校验码（no check code drawn for this document）" for t in missing])


def _publish(source: Path, target: Path) -> None:
    """Move into place without ever replacing an existing file (link fails if the target exists)."""
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    try:
        os.link(tmp, target)
    except FileExistsError:  # another run published it since the clash check: refused, never overwritten
        raise IssueFileExists([str(target)]) from None
    finally:
        tmp.unlink(missing_ok=True)


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
