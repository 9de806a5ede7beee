"""Seal and verify time per report, as a ratio to the time to render it, measured side by side.

    .venv/bin/python bench/seal_bench.py [examples/*/case.json …]

For each case: render (generator.render, PDF only), seal (firm certification + every handler,
RFC 3161 timestamps from a loopback TSA), seal with LTV (DSS + document timestamp), verify each.
The demo PKI is made once in a temporary folder and does not count.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.loading import load_case  # noqa: E402
from generator.render import render_report  # noqa: E402
from signing.embedded import embedded_case  # noqa: E402
from signing.keys import DEMO_PASSPHRASE, make_demo_pki  # noqa: E402
from signing.seal import SigningConfig, seal_report  # noqa: E402
from signing.tsa import LocalTsa  # noqa: E402
from signing.verify import verify_pdf  # noqa: E402


def _timed(fn):  # noqa: ANN001, ANN202
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main(argv: list[str]) -> None:
    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    cases = [Path(a) for a in argv] or sorted((ROOT / "examples").glob("*/case.json"))
    with tempfile.TemporaryDirectory(prefix="seal-bench-") as tmp_name:
        tmp = Path(tmp_name)
        rendered = []
        for case in cases:
            result, t_render = _timed(lambda c=case: render_report(load_case(c), tmp / c.parent.name, formats=("pdf",)))
            rendered.append((case, Path(result.pdf), result.pages, t_render))
        firms, people = [], {}
        for _case, pdf, _pages, _t in rendered:
            raw = embedded_case(pdf.read_bytes())
            assert raw is not None
            firms.append(raw["firm"]["name"])
            for h in raw["handlers"]:
                people.setdefault(h["name"], h.get("licence_no"))
        with LocalTsa(tmp / "keys") as tsa:
            pki = make_demo_pki(tmp / "keys", firms[0], list(people.items()), crl_url=tsa.crl_url,
                                other_firms=firms[1:])
            base = SigningConfig(firm_p12=pki.firm_p12, handlers=pki.handler_p12, tsa_url=tsa.url,
                                 trust_roots=(pki.root_pem,), crls=(pki.crl,), firms=pki.firm_p12s)
            ltv = SigningConfig(**{**base.__dict__, "ltv": True})
            print(f"{'case':<18}{'pages':>6}{'render s':>10}{'seal s':>9}{'×render':>9}"
                  f"{'verify s':>10}{'×render':>9}{'LTV seal s':>12}{'×render':>9}{'LTV verify s':>14}{'×render':>9}")
            def passphrase(*_: object) -> bytes:
                return DEMO_PASSPHRASE.encode()

            for case, pdf, pages, t_render in rendered:
                _, t_seal = _timed(lambda p=pdf: seal_report(p, p.with_name("sealed.pdf"), base, passphrase))
                rep, t_verify = _timed(lambda p=pdf: verify_pdf(p.with_name("sealed.pdf"), [pki.root_pem]))
                assert rep.ok, rep.all_problems()
                _, t_seal_ltv = _timed(lambda p=pdf: seal_report(p, p.with_name("ltv.pdf"), ltv, passphrase))
                rep, t_verify_ltv = _timed(lambda p=pdf: verify_pdf(p.with_name("ltv.pdf"), [pki.root_pem]))
                assert rep.ok, rep.all_problems()
                print(f"{case.parent.name:<18}{pages:>6}{t_render:>10.2f}{t_seal:>9.2f}{t_seal / t_render:>9.2f}"
                      f"{t_verify:>10.2f}{t_verify / t_render:>9.2f}{t_seal_ltv:>12.2f}{t_seal_ltv / t_render:>9.2f}"
                      f"{t_verify_ltv:>14.2f}{t_verify_ltv / t_render:>9.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
