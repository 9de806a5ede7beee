"""Test helpers for sealing: a demo PKI and a small PDF/A-3b report with the renderer's empty fields.

Until the real renderer (generator.render) is used everywhere, `sample_report` makes a WeasyPrint
PDF/A-3b report with the same contract: the case file attached, and a signature block holding empty
signature fields `handler-1`, `handler-2`, … and `firm-seal` (the seal over the firm name and date).
"""

from __future__ import annotations

import html
import io
import json
from pathlib import Path
from typing import Any

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigFieldSpec, append_signature_field

MM = 72 / 25.4
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "slope-collapse" / "case.json"


def example_case() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def _box(x_mm: float, y_top_mm: float, w_mm: float, h_mm: float) -> tuple[int, int, int, int]:
    """CSS position on an A4 page (mm from top-left) → PDF box (pt from bottom-left)."""
    page_h = 297 * MM
    return (
        round(x_mm * MM),
        round(page_h - (y_top_mm + h_mm) * MM),
        round((x_mm + w_mm) * MM),
        round(page_h - y_top_mm * MM),
    )


def sample_report(case: dict[str, Any], *, paragraphs: int = 8, fields: bool = True) -> bytes:
    from weasyprint import HTML, Attachment

    firm = html.escape(case["firm"]["name"])
    handlers = case["handlers"]
    body = "".join(
        f"<p>第{i + 1}段：经现场查勘核定，本次事故属于建筑工程一切险保险责任。损失按修复至基本恢复受损前状态的费用核定（7.1.1）。</p>"
        for i in range(paragraphs)
    )
    # The signature block sits absolutely on the last page so the field boxes are known in mm.
    boxes = []
    for i, h in enumerate(handlers):
        top = 200 + i * 22
        boxes.append(
            f'<div class="label" style="top:{top}mm">承办人员 {i + 1}：{html.escape(h["name"])}</div>'
            f'<div class="sigbox" style="top:{top}mm"></div>'
        )
    doc = f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(case['report']['number'])}</title>
<style>
@page {{ size: A4; margin: 0 }}
body {{ font-family: 'Noto Sans CJK SC'; font-size: 11pt; margin: 0 }}
.main {{ position: absolute; left: 20mm; top: 20mm; width: 170mm }}
.label {{ position: absolute; left: 20mm; width: 60mm; height: 18mm }}
.sigbox {{ position: absolute; left: 85mm; width: 70mm; height: 18mm; border: 0.3pt dotted #999 }}
.firm {{ position: absolute; left: 120mm; top: {200 + len(handlers) * 22 + 8}mm; width: 70mm; text-align: center }}
</style></head><body>
<div class="main"><h1>{html.escape(case['report'].get('title') or case['case_name'])}</h1>{body}</div>
{''.join(boxes)}
<div class="firm">{firm}<br>{html.escape(case['report']['issued_on'])}</div>
</body></html>"""
    attachment = Attachment(string=json.dumps(case, ensure_ascii=False), name="case.json",
                            description="案件文件 case file")
    pdf = HTML(string=doc).write_pdf(pdf_variant="pdf/a-3b", attachments=[attachment])
    if not fields:
        return pdf
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    for i in range(len(handlers)):
        append_signature_field(writer, SigFieldSpec(f"handler-{i + 1}", on_page=-1, box=_box(85, 200 + i * 22, 70, 18)))
    firm_top = 200 + len(handlers) * 22 + 2
    append_signature_field(writer, SigFieldSpec("firm-seal", on_page=-1, box=_box(137, firm_top, 36, 36)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# ───────────────────────────── a demo PKI, a local TSA, a rendered and a sealed report ─────────────────────────────

PASSPHRASE = b"gongu-demo"


class World:
    """Everything the sealing tests share: built once per test module (each step costs seconds)."""

    def __init__(self, root: Path) -> None:
        from signing.keys import make_demo_pki
        from signing.tsa import LocalTsa

        self.root = root
        self.case_path = EXAMPLE
        self.case = example_case()
        self.keys = root / "keys"
        # The TSA binds its port first, so the certificates' CRL distribution point names it.
        self.tsa = LocalTsa(self.keys).start()
        self.pki = make_demo_pki(
            self.keys, self.case["firm"]["name"],
            [(h["name"], h.get("licence_no")) for h in self.case["handlers"]],
            crl_url=self.tsa.crl_url,
        )
        self.report = self.render()

    def render(self) -> Path:
        """The real renderer's tagged PDF/A-3a (generator.render), with its empty signature fields."""
        from generator.loading import load_case
        from generator.render import render_report

        result = render_report(load_case(self.case_path), self.root / "rendered", formats=("pdf",))
        assert result.pdf is not None
        return Path(result.pdf)

    def config(self, **overrides: Any):  # noqa: ANN201 — signing.seal.SigningConfig
        from signing.seal import SigningConfig

        values: dict[str, Any] = {
            "firm_p12": self.pki.firm_p12,
            "handlers": dict(self.pki.handler_p12),
            "tsa_url": self.tsa.url,
            "trust_roots": (self.pki.root_pem,),
            "crls": (self.pki.crl,),
        }
        values.update(overrides)
        return SigningConfig(**values)

    def seal(self, name: str, **overrides: Any) -> Path:
        from signing.seal import seal_report

        out = self.root / f"{name}.pdf"
        seal_report(self.report, out, self.config(**overrides), lambda role, who, path: PASSPHRASE)
        return out

    def forge(self, name: str, **overrides: Any) -> Path:
        """Seal as `seal` does but through signing.seal.seal_pdf, skipping seal_report's check of whose key
        is whose: a forger's own tool, for tests of what the verifier finds in such a file."""
        from signing.seal import load_signer, seal_pdf, signatories_from_case

        config = self.config(**overrides)
        people = signatories_from_case(self.case)
        out = self.root / f"{name}.pdf"
        out.write_bytes(seal_pdf(
            self.report.read_bytes(), firm_name=self.case["firm"]["name"],
            firm_signer=load_signer(config.firm_p12, PASSPHRASE),
            handlers=[(p, load_signer(config.handlers[p.name], PASSPHRASE)) for p in people],
            tsa_url=config.tsa_url))
        return out

    def toml(self, **extra: Any) -> str:
        lines = [
            "[signing]",
            f'firm_p12 = "{self.pki.firm_p12}"',
            f'tsa_url = "{self.tsa.url}"',
            f'trust_roots = ["{self.pki.root_pem}"]',
            f'crls = ["{self.pki.crl}"]',
        ]
        lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
        lines.append("[signing.handlers]")
        lines += [f'"{n}" = "{p}"' for n, p in self.pki.handler_p12.items()]
        # the case's reviewers are registered persons: `gongu issue` counts only their approvals (9.3)
        reviewers = list(dict.fromkeys(r["reviewer"] for r in self.case.get("reviews", [])))
        lines += ["[people]", f"names = {json.dumps(reviewers, ensure_ascii=False)}"]
        return "\n".join(lines) + "\n"

    def expired_p12(self, name: str, licence: str | None) -> Path:
        """A certificate for `name` from the demo root, valid only in 2020 (long expired)."""
        import datetime as dt

        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        from signing.keys import DEMO_PASSPHRASE, Issued, _name, issue, write_p12

        cert = x509.load_pem_x509_certificate(self.pki.root_pem.read_bytes())
        key = serialization.load_pem_private_key((self.keys / "trust" / "root-key.pem").read_bytes(), PASSPHRASE)
        root = Issued(cert, key)  # type: ignore[arg-type]
        past = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        expired = issue(root, _name(f"{name} (DEMO)", self.case["firm"]["name"], serial=licence),
                        not_before=past, not_after=past + dt.timedelta(days=365))
        return write_p12(self.root / f"expired-{licence}.p12", expired, [root.cert], DEMO_PASSPHRASE, name)

    def other_firm_p12(self, firm: str) -> Path:
        """Another firm's seal certificate from the same demo root, as `gongu keys demo` issues one for
        each further firm (subject O = that firm): it chains to the trusted root all the same."""
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        from signing.keys import DEMO_PASSPHRASE, Issued, _name, issue, write_p12

        cert = x509.load_pem_x509_certificate(self.pki.root_pem.read_bytes())
        key = serialization.load_pem_private_key((self.keys / "trust" / "root-key.pem").read_bytes(), PASSPHRASE)
        root = Issued(cert, key)  # type: ignore[arg-type]
        other = issue(root, _name(f"DEMO {firm} 公估专用章", firm), crl_url=self.tsa.crl_url)
        return write_p12(self.root / f"firm-{len(firm)}.p12", other, [root.cert], DEMO_PASSPHRASE, firm)

    def close(self) -> None:
        self.tsa.stop()


def pdffonts(path: Path) -> list[dict[str, str]]:
    """`pdffonts` rows as dicts (name, type, emb…): poppler reads fonts in page content AND annotations."""
    import subprocess

    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()
    rows = []
    for line in out[2:]:
        parts = line.split()
        # name type… encoding emb sub uni objectID gen: read from the right, names have no spaces.
        rows.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3]})
    return rows


def pdfa_claim(pdf: bytes) -> tuple[str | None, str | None]:
    """(pdfaid:part, pdfaid:conformance) of the document's current XMP metadata."""
    import re

    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    xmp = reader.root["/Metadata"].get_object().data.decode("utf-8")
    part = re.search(r"pdfaid:part(?:>|=\")(\d)", xmp)
    conf = re.search(r"pdfaid:conformance(?:>|=\")([A-Za-z])", xmp)
    return (part.group(1) if part else None, conf.group(1) if conf else None)


# The forensic examples' reviewers (校对, 复核, 签发) and an archivist, registered as people of a test home.
FORENSIC_PEOPLE = ("王一帆", "宋建华", "罗永康", "档案员甲")


def forensic_signing_home(home: Path, pki: Any) -> Path:
    """A GONGU_HOME whose gongu.toml seals with `pki` (signing.keys.make_demo_pki: the institution's key, each
    appraiser's key by name, the demo root and CRL) and registers FORENSIC_PEOPLE."""
    home.mkdir(parents=True, exist_ok=True)
    handlers = "\n".join(f'"{name}" = "{path}"' for name, path in pki.handler_p12.items())
    names = ", ".join(f'"{n}"' for n in FORENSIC_PEOPLE)
    (home / "gongu.toml").write_text(
        f'[signing]\nfirm_p12 = "{pki.firm_p12}"\ntrust_roots = ["{pki.root_pem}"]\ncrls = ["{pki.crl}"]\n'
        f"[signing.handlers]\n{handlers}\n[people]\nnames = [{names}]\n", encoding="utf-8")
    return home
