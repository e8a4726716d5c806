"""An object-store endpoint that never answers (packets dropped: a firewall, a wrong private address)
is reported by `ping` — the start's check and /readyz — in about 3 s (issue 28), not after the 5 s
connect timeouts and retries that real requests keep (17 s before). The silent endpoint is a real
listening socket whose accept queue is full, so the kernel drops further connection attempts."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.errors import ServiceUnavailable
from app.storage.files import open_file_store
from tests.conftest import make_settings


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    queued = []
    for _ in range(3):  # fill the accept queue; nothing ever accepts
        client = socket.socket()
        client.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            client.connect(("127.0.0.1", port))
        queued.append(client)
    time.sleep(0.2)
    probe = socket.socket()
    probe.settimeout(0.5)
    with pytest.raises(TimeoutError):  # the endpoint really is silent
        probe.connect(("127.0.0.1", port))
    probe.close()
    yield f"http://127.0.0.1:{port}"
    for client in queued:
        client.close()
    server.close()


def test_a_silent_s3_endpoint_is_reported_within_about_3_s(silent_endpoint: str, tmp_path: Path) -> None:
    files = {"url": "s3://pdfqa-bucket/pdfqa", "endpoint_url": silent_endpoint, "access_key": "k", "secret_key": "s"}
    store = open_file_store(make_settings(tmp_path / "data", files=files))
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable, match="not reachable"):
        store.ping()
    assert time.monotonic() - started < 5.0  # 2.7 s measured; 14.8 s with the requests' own timeouts
