"""The loopback RFC 3161 TSA (signing.tsa) the demo and the tests sign against."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyhanko.sign.timestamps.aiohttp_client import HTTPTimeStamper

from signing.keys import make_demo_pki
from signing.tsa import LocalTsa


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTsa]:
    keys = tmp_path_factory.mktemp("tsa")
    server = LocalTsa(keys).start()  # bound first; the PKI names its CRL URL
    make_demo_pki(keys, "测试公估有限公司", [("甲", None), ("乙", None)], crl_url=server.crl_url)
    yield server
    server.stop()


def test_listens_on_loopback_with_an_ephemeral_port(tsa: LocalTsa) -> None:
    assert tsa.url.startswith("http://127.0.0.1:") and tsa.port > 0
    assert tsa._server.server_address[0] == "127.0.0.1"


def test_rfc3161_token_over_the_given_digest(tsa: LocalTsa) -> None:
    digest = hashlib.sha256(b"report bytes").digest()
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    token = asyncio.run(HTTPTimeStamper(tsa.url).async_timestamp(digest, "sha256"))
    signed_data = token["content"]
    tst_info = signed_data["encap_content_info"]["content"].parsed
    assert tst_info["message_imprint"]["hashed_message"].native == digest
    assert before <= tst_info["gen_time"].native <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    names = [c.chosen.subject.native["common_name"] for c in signed_data["certificates"]]
    assert "Gongu Demo TSA (DEMO)" in names


def test_each_request_gets_its_own_serial(tsa: LocalTsa) -> None:
    digest = hashlib.sha256(b"x").digest()
    serials = set()
    for _ in range(2):
        token = asyncio.run(HTTPTimeStamper(tsa.url).async_timestamp(digest, "sha256"))
        serials.add(token["content"]["encap_content_info"]["content"].parsed["serial_number"].native)
    assert len(serials) == 2


def test_serves_the_crl_file(tsa: LocalTsa) -> None:
    with urllib.request.urlopen(tsa.crl_url, timeout=5) as resp:  # noqa: S310 — loopback
        assert resp.read() == (tsa.keys_dir / "trust" / "root.crl").read_bytes()


@pytest.mark.parametrize("path", ["/crl/../tsa.p12", "/crl/tsa.p12", "/firm.p12", "/crl/"])
def test_serves_nothing_else(tsa: LocalTsa, path: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(tsa.base_url + path, timeout=5)  # noqa: S310
    assert err.value.code == 404


def test_garbage_request_is_refused_and_the_server_lives_on(tsa: LocalTsa) -> None:
    req = urllib.request.Request(tsa.url, data=b"not DER", headers={"Content-Type": "application/timestamp-query"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=5)  # noqa: S310
    assert err.value.code == 400
    token = asyncio.run(HTTPTimeStamper(tsa.url).async_timestamp(hashlib.sha256(b"y").digest(), "sha256"))
    assert token["content_type"].native == "signed_data"


def test_context_manager_frees_the_port(tmp_path: Path) -> None:
    with LocalTsa(tmp_path) as server:
        port = server.port
    again = LocalTsa(tmp_path, port=port)  # the port is free again
    again.stop()
