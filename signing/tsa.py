"""A real RFC 3161 time-stamping authority on loopback, for the demo and the tests.

pyHanko's DummyTimeStamper does the TSA work (it answers any request, signing with the TSA key it is
given); this module only puts it behind `http.server` on 127.0.0.1 so signing goes through the same
HTTP client (`HTTPTimeStamper`) a firm uses against its real TSA. The same server hands out the demo
PKI's CRLs under /crl/ so long-term validation data can be fetched with no internet.
"""

from __future__ import annotations

import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from asn1crypto import cms, core, tsp
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pyhanko.sign.general import as_signing_certificate, simple_cms_attribute
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from signing.keys import DEMO_PASSPHRASE, KeySigner, load_p12_signer, passphrase_from_env

TSA_PATH = "/tsa"
CRL_PREFIX = "/crl/"


class _KeyedTimeStamper(DummyTimeStamper):
    """pyHanko's DummyTimeStamper signing with a key unlocked once: its `_sign_tst_info` parses the key
    from DER for every token (~40 ms of RSA key checks each). The same signed attributes, in the same order,
    as pyHanko's method (pyhanko/sign/timestamps/dummy_client.py)."""

    def __init__(self, private_key: RSAPrivateKey, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._private_key = private_key

    def _sign_tst_info(self, tst_info_data: bytes, md_algorithm: str, dt: datetime) -> tuple[bytes, cms.CMSAttributes]:
        md = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
        md.update(tst_info_data)
        signed_attrs = cms.CMSAttributes([
            simple_cms_attribute("content_type", "tst_info"),
            simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
            simple_cms_attribute("signing_certificate", as_signing_certificate(self.tsa_cert)),
            simple_cms_attribute("message_digest", md.finalize()),
        ])
        signature = self._private_key.sign(signed_attrs.dump(), PKCS1v15(),
                                           get_pyca_cryptography_hash(md_algorithm.upper()))
        return signature, signed_attrs


def load_timestamper(tsa_p12: Path, passphrase: bytes | None, at: datetime | None = None) -> DummyTimeStamper:
    signer = load_p12_signer(tsa_p12, passphrase)
    kwargs: dict[str, Any] = {"tsa_cert": signer.signing_cert, "tsa_key": signer.signing_key,
                              "certs_to_embed": signer.cert_registry, "fixed_dt": at}
    if isinstance(signer, KeySigner) and isinstance(signer.private_key, RSAPrivateKey):
        return _KeyedTimeStamper(signer.private_key, **kwargs)
    return DummyTimeStamper(**kwargs)


def tsa_passphrase(explicit: bytes | None = None) -> bytes:
    # A demo tool: the TSA key's passphrase comes from the environment, else the demo passphrase.
    return explicit or passphrase_from_env("GONGU_TSA_KEY_PASSPHRASE") or DEMO_PASSPHRASE.encode()


class LocalTsa:
    """`with LocalTsa(keys_dir) as tsa: tsa.url` — an RFC 3161 TSA on 127.0.0.1 (port 0 = ephemeral).

    The port is bound at construction, the TSA key read at the first request, so a test can learn
    the URL first and bake it into the demo certificates' CRL distribution points.
    """

    def __init__(self, keys_dir: Path, passphrase: bytes | None = None, *, port: int = 0,
                 at: datetime | None = None) -> None:
        """`at`: the time every token states (tests of a TSA whose time differs from the machine's)."""
        self.keys_dir = Path(keys_dir)
        self._at = at
        self._passphrase = tsa_passphrase(passphrase)
        self.last_error: str | None = None
        self._stamper: DummyTimeStamper | None = None
        self._lock = threading.Lock()
        self.requests = 0
        self.crl_requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 — http.server's naming
                if self.path != TSA_PATH:
                    self.send_error(404)
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    req = tsp.TimeStampReq.load(body)
                    resp = owner._answer(req)
                except Exception as exc:  # a malformed request gets a 400, never kills the server
                    owner.last_error = f"{type(exc).__name__}: {exc}"
                    self.send_error(400)
                    return
                data = resp.dump()
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                name = self.path[len(CRL_PREFIX) :] if self.path.startswith(CRL_PREFIX) else ""
                # Only plain file names inside trust/: the server never walks the file system.
                if not name or "/" in name or name.startswith(".") or not name.endswith(".crl"):
                    self.send_error(404)
                    return
                path = owner.keys_dir / "trust" / name
                if not path.is_file():
                    self.send_error(404)
                    return
                data = path.read_bytes()
                owner.crl_requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/pkix-crl")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 — quiet in tests
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return self.base_url + TSA_PATH

    @property
    def crl_url(self) -> str:
        return self.base_url + CRL_PREFIX + "root.crl"

    def _answer(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        with self._lock:
            if self._stamper is None:
                self._stamper = load_timestamper(self.keys_dir / "tsa.p12", self._passphrase, self._at)
            self.requests += 1
        return self._stamper.request_tsa_response(req)

    def start(self) -> LocalTsa:
        self._thread = threading.Thread(target=self._server.serve_forever, name="gongu-tsa", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> LocalTsa:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
