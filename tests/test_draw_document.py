"""随机选择鉴定机构记录: the draw record as a document of the case, signed by every side that took part in the
choice and sealed by the institution (Sichuan 二(三))."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from generator.forensic.documents import build_documents
from generator.forensic.draw_document import TITLE
from generator.loading import load_case
from generator.report_content import KeyValues, Paragraph, SignatureBlock, Table
from signing.signers import ROLE_DRAW, document_role, document_signers

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "forensic-reappraisal"
INSURER = "中国人民财产保险股份有限公司成都市分公司"


def texts(doc: object) -> str:
    """Every string of the document's blocks, joined (what a reader sees)."""
    out: list[str] = []
    for s in doc.all_sections():  # type: ignore[attr-defined]
        for b in s.blocks:
            if isinstance(b, KeyValues):
                out += [f"{k}={v}" for k, v in b.pairs]
            elif isinstance(b, Table):
                out += ["|".join(r) for r in b.rows]
            elif isinstance(b, Paragraph):
                out.append(b.text)
    return "\n".join(out)


def test_draw_document_lists_every_input() -> None:
    loaded = load_case(EXAMPLE / "case.json")
    record = json.loads((EXAMPLE / "draw-record.json").read_text(encoding="utf-8"))
    docs = build_documents(loaded.case, EXAMPLE)  # type: ignore[arg-type]
    doc = next(d for d in docs if d.key == "draw")
    # the sides that took part in the choice (the example's selection.agreed_by) sign, in that order
    assert doc.title == TITLE and not doc.primary and doc.signers == ["何建平", INSURER]
    text = texts(doc)
    for value in (record["roster"]["source"], record["roster"]["source_sha256"], record["roster"]["sha256"],
                  record["list_hash"], record["seed"], record["declaration"]["issue"], "5.11.16.22.28.33.12./",
                  "05 11 16 22 28 33 12", "docs/draw.md", "gongu draw verify draw-record.json"):
        assert value in text, value
    # every exclusion, each commitment and secret, the whole order and the chosen institution
    assert len(record["exclusions"]) == 11
    for x in record["exclusions"]:
        assert f"{x['licence_no']}|{x['name']}|{x['reason']}|{x['clause']}" in text
    for c, r in zip(record["commitments"], record["reveals"], strict=True):
        assert c["commitment"] in text and r["secret"] in text
    assert "1|510703015|绵阳涪城正衡司法鉴定中心\n2|511102024|乐山嘉州司法鉴定中心" in text
    assert "选定机构=绵阳涪城正衡司法鉴定中心（许可证号 510703015）" in text
    # the SHA-256 of the record file itself, so the printed record names the file it came from
    import hashlib
    assert hashlib.sha256((EXAMPLE / "draw-record.json").read_bytes()).hexdigest() in text


def test_only_a_case_with_a_draw_record_has_the_document(tmp_path: Path) -> None:
    other = load_case(ROOT / "examples" / "forensic-joint-grade10" / "case.json")
    assert "draw" not in {d.key for d in build_documents(other.case, other.source.parent)}  # type: ignore[arg-type]
    # A record that cannot be read shows the 「未提供」 marker rather than an empty document.
    shutil.copytree(EXAMPLE, tmp_path / "c")
    (tmp_path / "c" / "draw-record.json").unlink()
    loaded = load_case(tmp_path / "c" / "case.json")
    doc = next(d for d in build_documents(loaded.case, tmp_path / "c") if d.key == "draw")  # type: ignore[arg-type]
    missing = [b for s in doc.sections for b in s.blocks if isinstance(b, Paragraph) and b.missing]
    assert len(missing) == 1 and "随机抽取记录文件不存在" in missing[0].text


def test_draw_document_is_certified_by_each_side_not_only_the_chosen_institution() -> None:
    """Sichuan 二(三): the chosen institution benefits from the draw; the record carries a signature field for
    each side that took part (selection.agreed_by) above the institution's seal."""
    raw = json.loads((EXAMPLE / "case.json").read_text(encoding="utf-8"))
    assert document_role(raw, key="draw", title=TITLE, primary=False) == ROLE_DRAW
    signers = document_signers(raw, ROLE_DRAW)
    assert [p.name for p in signers.people] == ["何建平", INSURER] and signers.fields == ["party-1", "party-2"]
    assert signers.firm_name == "绵阳涪城正衡司法鉴定中心" and not signers.own_seal
    assert [p.licensed for p in signers.people] == [False, False]  # parties: no 执业证号 in their stamp
    assert "二（三）" in signers.person_reason(signers.people[0])
    loaded = load_case(EXAMPLE / "case.json")
    doc = next(d for d in build_documents(loaded.case, EXAMPLE) if d.key == "draw")  # type: ignore[arg-type]
    block = next(b for s in doc.sections for b in s.blocks if isinstance(b, SignatureBlock))
    # the renderer's fields party-1, party-2 (boxes sig-party-N) are the two parties, with their capacity
    assert [(h.index, h.name, h.licence_no) for h in block.handlers] == [(1, "何建平", "受害人"), (2, INSURER, "保险机构")]
    assert block.firm_name == "绵阳涪城正衡司法鉴定中心" and block.licence_label == "身份" and block.box_id == "party"
    # `gongu seal` of the record alone knows it by its title (signing.signers.infer_role)
    from signing.signers import infer_role

    assert infer_role(raw, ["institution-seal", "party-1", "party-2"], title=TITLE) == ROLE_DRAW
    assert infer_role(raw, ["institution-seal", "appraiser-1", "appraiser-2"]) == "report"  # without it: by the fields
    # nobody named as taking part: nobody but the institution would certify it — refused before sealing
    raw["selection"]["agreed_by"] = []
    assert document_signers(raw, ROLE_DRAW).too_few() is not None
