"""Seal a rendered report: the firm's certification seal, then each handler's approval signature.

Order, and why (电子签名法 Art. 13: after signing, any change to the content and form of the data
message must be detectable; 资产评估法 Art. 27: the report is signed by the appraisers who did the work
and sealed by the firm):

  1. The firm's seal is the *certification* signature (DocMDP, /P 2 = form filling and signing only).
     PDF (ISO 32000 12.8.2.2) allows a certification signature only as the FIRST signature of a
     document, so "handlers first, firm seal last" cannot also certify the document against change.
  2. Each handler then fills their own, already present, empty signature field with an approval
     signature. Filling an existing signature field is exactly what /P 2 allows, so the firm's seal
     stays valid, and each handler's signature covers the firm's seal and the earlier handlers'.
  3. With LTV on, validation data (certificates, CRLs) go into the DSS and a document timestamp
     closes the file (PAdES B-LT / B-LTA) — changes every DocMDP level permits.

Any other later change (page content, a new annotation, a new field) breaks /P 2 and pyHanko's
difference analysis flags it against every signature (see signing.verify).

The visible appearances go into the report's signature block: fields named `handler-1`, `handler-2`, …
and `firm-seal` (a forensic document: `appraiser-1` …, `party-1` … for parties, and `institution-seal`),
created empty by the renderer where there is room. A survey report's seal sits over the firm name and
date, as a Chinese report is sealed; a forensic document's seal sits beside them, so the date stays legible
(forms/styles/forensic.css). The 意见书's cover seal and the optional cross-page seal are drawn into the
page content before the first signature (signing/seal_marks.py), so every signature covers them.
"""

from __future__ import annotations

import asyncio
import functools
import io
import string
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import AxisAlignment, InnerScaling, Margins, SimpleBoxLayoutRule
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields as sigfields
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, PdfTimeStamper, SimpleSigner
from pyhanko.sign.timestamps.aiohttp_client import HTTPTimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.stamp import StaticStampStyle, TextStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.aiohttp_fetchers.util import LazySession

from generator.atomic import atomic_write
from generator.clock import SYSTEM_CLOCK, Clock
from signing.embedded import ReportPdfError, embedded_case
from signing.keys import KeyError_, load_p12_signer
from signing.seal_image import CJK_FONT_FILE, NOTO_SC_INDEX, load_seal_image
from signing.seal_marks import draw_seal_marks
from signing.signers import (
    FIRM_FIELD,
    HANDLER_FIELD,
    ROLE_REPORT,
    DocumentSigners,
    Signatory,
    document_signers,
    firm_field,
    firm_name,
    infer_role,
)
from signing.trust import TrustFileError, validation_context

MD_ALGORITHM = "sha256"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# The visible signing time is shown in Beijing time, as the report's readers read it; the signed
# attributes and the RFC 3161 token keep UTC.


class SealError(Exception):
    """Sealing cannot proceed; the message tells the user what to fix (Chinese, then English)."""


class SignerRefused(SealError):
    """A key belongs to someone who may not sign this document (an appraiser certified by another
    organisation, or under another licence number): a refusal to issue, not a technical failure."""


# ─────────────────────────────────────────── inputs ────────────────────────────────────────────


@dataclass(frozen=True)
class SigningConfig:
    """`[signing]` of gongu.toml, paths resolved. Never holds a passphrase."""

    firm_p12: Path
    handlers: dict[str, Path]
    tsa_url: str | None = None
    seal_image: Path | None = None
    ltv: bool = False
    trust_roots: tuple[Path, ...] = ()
    crls: tuple[Path, ...] = ()
    fetch_revocation: bool = False
    location: str | None = None
    # Optional per-firm seal keys (one installation serving several firms); firm_p12 otherwise.
    firms: dict[str, Path] = field(default_factory=dict)
    # A strip of the seal at the right edge of every page (骑缝章, signing/seal_marks.py).
    cross_page_seal: bool = False

    def firm_key(self, firm_name: str) -> Path:
        return self.firms.get(firm_name, self.firm_p12)


# (role, signer name, key file) → passphrase bytes, or None for an unencrypted file.
PassphraseSource = Callable[[str, str, Path], bytes | None]


@dataclass
class SealResult:
    output: Path
    fields: list[str] = field(default_factory=list)
    ltv: bool = False
    timestamped: bool = False


# ──────────────────────────────────────────── keys ─────────────────────────────────────────────


def load_signer(p12: Path, passphrase: bytes | None) -> SimpleSigner:
    return load_p12_signer(p12, passphrase)


# ─────────────────────────────────────────── fonts ─────────────────────────────────────────────


def stamp_font(texts: Sequence[str], workdir: Path, *, size: int = 9) -> GlyphAccumulatorFactory:
    """An embeddable CJK font for the stamp text.

    pyHanko's default stamp font (Courier, not embedded) breaks PDF/A, and GlyphAccumulator reads
    single fonts only, not the .ttc collections Debian ships. HarfBuzz cuts "Noto Sans CJK SC" out of
    the collection, keeping just the characters the stamps use (~10 kB, milliseconds); pyHanko then
    embeds a subset of that as a CIDFontType0 font.
    """
    import uharfbuzz as hb

    if not CJK_FONT_FILE.is_file():
        raise SealError(f"缺少字体 {CJK_FONT_FILE}（install fonts-noto-cjk）")
    face = hb.Face(hb.Blob.from_file_path(str(CJK_FONT_FILE)), NOTO_SC_INDEX)
    wanted = hb.SubsetInput()
    chars = set("".join(texts)) | set(string.ascii_letters + string.digits + string.punctuation + " ：（）—")
    wanted.unicode_set.update(ord(c) for c in chars)
    subset = hb.subset(face, wanted)
    if subset is None:
        raise SealError("无法生成签章字体子集（font subsetting failed）")
    path = workdir / "stamp-font.otf"
    path.write_bytes(subset.blob.data)
    return GlyphAccumulatorFactory(str(path), font_size=size)


# ───────────────────────────────────────── appearances ─────────────────────────────────────────


def handler_stamp_text(person: Signatory) -> str:
    lines = [f"{person.label}：{person.name}"]
    if person.role:
        lines[0] += f"（{person.role}）"
    if person.licensed:  # a party (当事人) holds no practising licence
        lines.append(f"执业证号：{person.licence_no or '—'}")
    lines.append("签名时间：%(signed_at)s（北京时间）")
    return "\n".join(lines)


# The renderer's handler box keeps its lower part for the printed name and licence number
# (forms/templates/blocks.html: an 18 mm .sig-space over them in a 34 mm box); the stamp stays above.
PRINTED_SHARE = 0.47


def handler_style(person: Signatory, font: GlyphAccumulatorFactory, box_height: float) -> TextStampStyle:
    return TextStampStyle(
        stamp_text=handler_stamp_text(person),
        text_box_style=TextBoxStyle(font=font, leading=12),
        border_width=0,  # the report draws the box; a second frame would not line up
        inner_content_layout=SimpleBoxLayoutRule(
            x_align=AxisAlignment.ALIGN_MIN,
            y_align=AxisAlignment.ALIGN_MAX,
            margins=Margins(left=5, right=4, top=4, bottom=box_height * PRINTED_SHARE),
            inner_content_scaling=InnerScaling.SHRINK_TO_FIT,
        ),
    )


def firm_style(seal_png_path: Path | None, firm_name: str, purpose: str = "公估专用章") -> StaticStampStyle:
    image = load_seal_image(seal_png_path, firm_name, purpose)
    return StaticStampStyle(
        background=PdfImage(image),
        background_opacity=0.92,  # the printed firm name and date stay legible under the ink
        border_width=0,
        background_layout=SimpleBoxLayoutRule(
            x_align=AxisAlignment.ALIGN_MID, y_align=AxisAlignment.ALIGN_MID,
            inner_content_scaling=InnerScaling.SHRINK_TO_FIT,
        ),
    )


# ────────────────────────────────────── reading the report ─────────────────────────────────────


@functools.lru_cache(maxsize=2)
def _signature_fields(pdf: bytes) -> dict[str, tuple[bool, float]]:
    """Signature field name → (already signed?, height of its widget in points, 0 for an invisible field).

    Sealing asks this of the same bytes several times (the role, the fields to fill, the stamps' heights,
    the result); every read parses the file's whole cross-reference history, so the answer is kept for the
    last two files (bytes hash once and compare by identity first)."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    out = {}
    for name, value, ref in sigfields.enumerate_sig_fields(reader):
        field_obj = ref.get_object()
        widget = field_obj if "/Rect" in field_obj else field_obj.get("/Kids", [{}])[0].get_object()
        rect = widget.get("/Rect")
        out[name] = (value is not None, abs(float(rect[3]) - float(rect[1])) if rect else 0.0)
    return out


def signature_field_names(pdf: bytes) -> dict[str, bool]:
    """Signature field name → already signed?"""
    return {name: signed for name, (signed, _h) in _signature_fields(bytes(pdf)).items()}


def field_heights(pdf: bytes) -> dict[str, float]:
    """Signature field name → height of its widget in points (0 for an invisible field)."""
    return {name: height for name, (_s, height) in _signature_fields(bytes(pdf)).items()}


def signatories_from_case(raw: dict[str, Any], role: str = ROLE_REPORT) -> list[Signatory]:
    """Who signs, in the order the renderer numbers the fields handler-1, handler-2 …: a survey's
    handlers; a forensic 意见书's appraisers of `report.signatures` (role "report"), a 补正书's
    `signed_by` (role "correction-<n>"), nobody for a document the institution seals alone
    (signing.signers)."""
    return list(document_signers(raw, role).people)


def firm_name_from_case(raw: dict[str, Any]) -> str:
    """The firm (survey) or the forensic institution (`institution.name`) whose seal the document carries."""
    return firm_name(raw) or ("司法鉴定机构" if raw.get("kind") == "forensic_appraisal" else "公估机构")


# ──────────────────────────────────────────── sealing ───────────────────────────────────────────


def appraiser_certificate_problems(document: DocumentSigners, certs: Sequence[tuple[Signatory, Any]]) -> list[str]:
    """Why an appraiser's certificate cannot sign the institution's document, before anything is signed:
    its organisation (subject O) is not the institution (通则 Art 19: the institution designates its own
    appraisers), or its 执业证号 (subject serialNumber) is not the one the case file gives them."""
    out = []
    for person, cert in certs:
        if not person.licensed:
            continue  # a party signing a draw record or a 调解记录 belongs to no institution (signing.signers)
        names = cert.subject.native
        org, serial = names.get("organization_name"), names.get("serial_number")
        if org != document.firm_name:
            out.append(f"[通则 Art 19] 鉴定人「{person.name}」的签名证书属于「{org or '未载明机构'}」，不是出具本文书的"
                       f"鉴定机构「{document.firm_name}」（appraiser's certificate names another organisation）")
        elif person.licence_no and serial and serial != person.licence_no:
            out.append(f"[通则 Art 19] 鉴定人「{person.name}」的签名证书执业证号为 {serial}，与案件文件的 "
                       f"{person.licence_no} 不符（certificate is for another licence number）")
    return out


def key_owner_problems(document: DocumentSigners, firm_cert: Any, certs: Sequence[tuple[Signatory, Any]]) -> list[str]:
    """Why a configured key is not the one the case calls for, before anything is signed: a person's
    certificate (subject CN, and serialNumber when the case gives a 执业证号) names someone else — e.g.
    `[signing.handlers]` pointing a handler at a colleague's key — or the seal's certificate (subject O)
    is another firm's (电子签名法 Art 13: a signature is the signatory's own; 资产评估法 Art 27)."""
    from signing.completeness import name_fits

    out = []
    org = firm_cert.subject.native.get("organization_name")
    if org != document.firm_name:
        kind = "鉴定机构" if document.forensic else "公估机构"
        out.append(f"印章密钥的证书属于「{org or firm_cert.subject.native.get('common_name') or '未载明机构'}」，"
                   f"不是本案{kind}「{document.firm_name}」：只能为本机构的案件盖章（seal key of another organisation）")
    for person, cert in certs:
        names = cert.subject.native
        cn, serial = names.get("common_name"), names.get("serial_number")
        if not name_fits(cn, person.name) or (person.licence_no and serial and serial != person.licence_no):
            out.append(f"[signing.handlers] 中「{person.name}」的密钥证书属于「{cn or '未载明姓名'}」"
                       f"{f'（执业证号 {serial}）' if serial else ''}，不是「{person.name}」本人的证书"
                       "（key certificate belongs to another person）")
    return out


def _timestamper(url: str | None, session: LazySession | None = None) -> HTTPTimeStamper | None:
    return HTTPTimeStamper(url, timeout=10, session=session) if url else None


async def _sign_in_turn(pdf: bytes, steps: Sequence[tuple[PdfSignatureMetadata, SimpleSigner, Any]],
                        tsa_url: str | None, vc: ValidationContext | None, clock: Clock) -> bytes:
    """Each signature in its own incremental revision over the one before, in one event loop: the TSA is
    reached through one HTTP session (one TLS setup, its connections kept between the tokens) instead of
    a session per token, and the validation context's own sessions are closed once at the end."""
    session = LazySession()
    timestamper = _timestamper(tsa_url, session)
    current = pdf
    try:
        for meta, signer, style in steps:
            writer = IncrementalPdfFileWriter(io.BytesIO(current), strict=False)
            out = io.BytesIO()
            shown = {"signed_at": clock.now().strftime(TIME_FORMAT)}  # Beijing time, the one clock
            await PdfSigner(meta, signer=signer, timestamper=timestamper, stamp_style=style).async_sign_pdf(
                writer, output=out, appearance_text_params=shown
            )
            current = out.getvalue()
    finally:
        await session.close()
        if vc is not None:
            await vc.aclose()
    return current


def seal_pdf(
    pdf: bytes,
    *,
    firm_name: str,
    firm_signer: SimpleSigner,
    handlers: Sequence[tuple[Signatory, SimpleSigner]],
    tsa_url: str | None = None,
    seal_image: Path | None = None,
    ltv: bool = False,
    vc: ValidationContext | None = None,
    location: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
    document: DocumentSigners | None = None,
    title: str | None = None,
    cross_page_seal: bool = False,
) -> bytes:
    """Sign `pdf` (bytes) into the seal's field (`firm-seal`; a forensic document's `institution-seal`) and the
    people's (`handler-1` …; `appraiser-1` …); return the sealed bytes.

    `document` says which seal and how many signatures the document takes (signing.signers); without
    it, a survey report: the firm and at least two handlers (4.3). With `document.minimum` None the
    institution seals alone (a forensic companion document): the certification signature, timestamped,
    and with LTV the document timestamp after it.

    Before any signature, the seal's impressions in the page content (signing/seal_marks.py): on the cover
    where the renderer reserved its place (the 意见书), and with `cross_page_seal` a strip at every page's
    right edge (骑缝章); the certification signature covers them.
    """
    if document is None:
        document = DocumentSigners(firm_name, "公估专用章", tuple(p for p, _s in handlers), ROLE_REPORT, (2, "4.3"))
    if refusal := document.too_few():
        # CAR code 4.3 (资产评估法 Art. 27) / 通则 Art 19 (two appraisers per matter) / Art 41 (a 补正书).
        raise SealError(refusal)
    if document.minimum is None and handlers:
        raise SealError("本文书只由鉴定机构盖章，不应有鉴定人签名（this document is sealed by the institution alone）")
    present = signature_field_names(pdf)
    seal_field = firm_field(present, forensic=document.forensic)
    document = document.named_as_in(present)  # appraiser-N, or handler-N on a forensic PDF rendered before
    wanted = [seal_field] + document.fields[: len(handlers)]
    missing = [name for name in wanted if name not in present]
    if missing:
        raise SealError(
            f"报告中缺少签名域 {', '.join(missing)}（missing signature fields: {', '.join(missing)}）；"
            "请用 gongu render 重新生成报告（re-render the report）"
        )
    extra = sorted(n for n in present if n.startswith(document.person_field[:-2]) and n not in wanted)
    if extra:
        # An empty handler field left behind could be signed later by anyone with a certificate.
        who = "鉴定人" if document.forensic else "承办人员"
        raise SealError(
            f"报告有多余的{who}签名域 {', '.join(extra)}，与案件文件的 {len(handlers)} 名{who}不符"
            f"（signature fields {', '.join(extra)} have no signer in the case file）"
        )
    filled = [name for name in wanted if present[name]]
    if filled:
        raise SealError(f"签名域已签署：{', '.join(filled)}（already signed）")
    if ltv and vc is None:
        raise SealError("启用 LTV 需要信任根 [signing] trust_roots（LTV needs trust roots）")
    if ltv and not tsa_url:
        raise SealError("启用 LTV 需要时间戳服务 [signing] tsa_url（LTV needs a TSA）")

    heights = field_heights(pdf)
    with tempfile.TemporaryDirectory(prefix="gongu-seal-") as tmp:
        font = stamp_font([handler_stamp_text(p) for p, _s in handlers], Path(tmp)) if handlers else None
        steps: list[tuple[PdfSignatureMetadata, SimpleSigner, Any]] = [
            (
                PdfSignatureMetadata(
                    field_name=seal_field,
                    certify=True,
                    docmdp_permissions=sigfields.MDPPerm.FILL_FORMS,
                    md_algorithm=MD_ALGORITHM,
                    subfilter=sigfields.SigSeedSubFilter.PADES,
                    # A forensic document's role (意见书, 补正书, institution alone) is recorded here,
                    # under the institution's signature, for verification (signing.signers).
                    reason=document.firm_reason(title),
                    location=location,
                    name=firm_name,
                    embed_validation_info=ltv,
                    validation_context=vc,
                    # Sealed by the institution alone: B-LTA closes after the seal itself.
                    use_pades_lta=ltv and not handlers,
                ),
                firm_signer,
                firm_style(seal_image, firm_name, document.seal_purpose),
            )
        ]
        for index, (person, signer) in enumerate(handlers, start=1):
            assert font is not None  # made above whenever there are handlers
            last = index == len(handlers)
            steps.append(
                (
                    PdfSignatureMetadata(
                        field_name=document.person_field.format(index),
                        md_algorithm=MD_ALGORITHM,
                        subfilter=sigfields.SigSeedSubFilter.PADES,
                        reason=document.person_reason(person),
                        location=location,
                        name=person.name,
                        embed_validation_info=ltv,
                        validation_context=vc,
                        # B-LTA: the last signature is followed by a document timestamp.
                        use_pades_lta=ltv and last,
                    ),
                    signer,
                    handler_style(person, font, heights.get(document.person_field.format(index), 0.0)),
                )
            )
        seal_ink = load_seal_image(seal_image, firm_name, document.seal_purpose)
        current = draw_seal_marks(pdf, seal_ink, cross_page=cross_page_seal,
                                  alt=f"{document.seal_purpose}：{firm_name}")
        current = asyncio.run(_sign_in_turn(current, steps, tsa_url, vc, clock))
    return current


def add_document_timestamp(pdf: bytes, tsa_url: str, vc: ValidationContext | None = None) -> bytes:
    """A B-LTA document timestamp on an already sealed report (e.g. to renew before the TSA expires)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    out = io.BytesIO()
    PdfTimeStamper(HTTPTimeStamper(tsa_url, timeout=10)).timestamp_pdf(
        writer, MD_ALGORITHM, validation_context=vc, output=out
    )
    return out.getvalue()


def _check_pdf_header(pdf: bytes, label: Path) -> None:
    if b"%PDF-" not in pdf[:1024]:  # the header may follow a little junk (ISO 32000 7.5.2), never more
        raise SealError(f"{label} 不是 PDF 文件（not a PDF file）")


def report_case(pdf: bytes, label: Path) -> dict[str, Any]:
    """The case file embedded in a rendered report (it names the handlers who sign); SealError when the
    file is not a PDF or carries none."""
    _check_pdf_header(pdf, label)
    try:
        case_raw = embedded_case(pdf)
    except ReportPdfError as exc:
        raise SealError(f"{label} {exc}") from None
    if case_raw is None:
        raise SealError(f"{label} 中没有嵌入案件文件，请用 --case 指定（no embedded case file: pass --case）")
    return case_raw


def seal_report(
    report_pdf: Path,
    output: Path,
    config: SigningConfig,
    passphrase: PassphraseSource,
    *,
    case_raw: dict[str, Any] | None = None,
    clock: Clock = SYSTEM_CLOCK,
    role: str | None = None,
    title: str | None = None,
) -> SealResult:
    """Seal a rendered report file (the `gongu seal` / `gongu issue` step). Atomic: `output` is
    written only when every signature succeeded.

    `case_raw` is the case file as JSON; if None, the case file embedded in the report is used.
    `role` says which document of a forensic case this is (signing.signers: "report", "correction-<n>",
    "institution"); None reads it from the PDF's fields (appraisers' fields → the 意见书, none → the
    institution alone). `title` names the document in the seal's reason.
    """
    try:
        pdf = Path(report_pdf).read_bytes()
    except OSError as exc:
        raise SealError(f"无法读取报告 {report_pdf}（cannot read report）：{exc.strerror}") from None
    _check_pdf_header(pdf, report_pdf)
    if case_raw is None:
        case_raw = report_case(pdf, report_pdf)
    present = signature_field_names(pdf)
    if role is None:
        role = infer_role(case_raw, present)
    try:
        document = document_signers(case_raw, role)
    except ValueError as exc:
        raise SealError(str(exc)) from None
    if refusal := document.too_few():  # before any key is unlocked
        raise SealError(refusal)
    people = list(document.people)
    unknown = [p.name for p in people if p.name not in config.handlers]
    if unknown:
        who = (document.signer_words or ("鉴定人",))[0] if document.forensic else "承办人员"
        raise SealError(
            f"gongu.toml [signing.handlers] 中没有{who} {', '.join(unknown)} 的密钥"
            f"（no key configured for handler: {', '.join(unknown)}）"
        )
    # The issuer's seal: the institution's, or a mediation committee's on its 调解记录 (Sichuan 五(一)), whose
    # key is only ever its own (never the institution's firm_p12 standing in for it).
    firm_name = document.firm_name if document.own_seal else firm_name_from_case(case_raw)
    if document.own_seal and firm_name not in config.firms:
        raise SealError(f"gongu.toml [signing.firms] 中没有「{firm_name}」的印章密钥：该文书由其出具并盖章，"
                        f"不能以本机构印章代替（no seal key configured for {firm_name}）")
    try:
        firm_key = config.firm_key(firm_name)
        firm_signer = load_signer(firm_key, passphrase("firm", firm_name, firm_key))
        handler_signers = [
            (p, load_signer(config.handlers[p.name], passphrase("handler", p.name, config.handlers[p.name])))
            for p in people
        ]
    except KeyError_ as exc:
        raise SealError(str(exc)) from None
    refusals = key_owner_problems(document if document.own_seal else replace(document, firm_name=firm_name),
                                  firm_signer.signing_cert, [(p, s.signing_cert) for p, s in handler_signers])
    if refusals:  # before anything is written
        raise SignerRefused("；".join(refusals))
    if document.forensic:
        if refusals := appraiser_certificate_problems(document, [(p, s.signing_cert) for p, s in handler_signers]):
            raise SignerRefused("；".join(refusals))
    vc = None
    if config.trust_roots:
        try:
            vc = validation_context(config.trust_roots, config.crls, fetch=config.fetch_revocation)
        except TrustFileError as exc:
            raise SealError(str(exc)) from None
    try:
        sealed = seal_pdf(
            pdf,
            firm_name=firm_name,
            firm_signer=firm_signer,
            handlers=handler_signers,
            tsa_url=config.tsa_url,
            seal_image=None if document.own_seal else config.seal_image,  # the institution's image is its own
            ltv=config.ltv,
            vc=vc,
            location=config.location,
            clock=clock,
            document=document,
            title=title,
            cross_page_seal=config.cross_page_seal,
        )
    except SealError:
        raise
    except TimestampRequestError:
        raise SealError(f"签章失败：无法连接时间戳服务 {config.tsa_url}（signing failed: TSA unreachable）") from None
    except SigningError as exc:
        raise SealError(
            "签章失败：签名证书无法验证（已过期、被吊销或不能链接到信任根）"
            f"（signing failed: certificate not valid at signing time or not trusted: {exc}）"
        ) from None
    except Exception as exc:  # pyHanko/aiohttp errors: a broken PDF, a TSA answering garbage…
        raise SealError(f"签章失败（signing failed）：{type(exc).__name__}: {exc}") from None
    atomic_write(Path(output), sealed)
    return SealResult(
        output=Path(output),
        # sealing fills the report's fields and adds none: their names are the report's
        fields=[firm_field(present)] + document.named_as_in(present).fields,
        ltv=config.ltv,
        timestamped=bool(config.tsa_url),
    )


__all__ = [
    "FIRM_FIELD",
    "HANDLER_FIELD",
    "SealError",
    "SignerRefused",
    "SealResult",
    "DocumentSigners",
    "Signatory",
    "SigningConfig",
    "add_document_timestamp",
    "load_signer",
    "seal_pdf",
    "seal_report",
    "signature_field_names",
]
