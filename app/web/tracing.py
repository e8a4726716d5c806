"""A request id for every HTTP request and one access line per request.

The id comes from `X-Request-ID` when the request's connection comes from a trusted proxy
(server.trusted_proxies) and the value is well-formed, else it is made here. It is bound with `logger.contextualize`, so
everything logged while the request is served carries it; it is also written into the request's
headers, so a UI event handler (which Gradio runs in a task of its own) can bind the same id, and it
is returned to the client in `X-Request-ID` (error messages quote it as the reference).
"""

from __future__ import annotations

import ipaddress
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any

from loguru import logger

from app import telemetry

_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_QUIET = ("/healthz", "/readyz", "/metrics")  # probes and scrapes: logged at DEBUG


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


class RequestContextMiddleware:
    def __init__(self, app: Any, trusted_proxies: Sequence[str] = ()) -> None:
        """`trusted_proxies`: networks whose X-Request-ID is kept; this middleware must see the
        connection's own peer (outside the middleware that applies the forwarded headers)."""
        self.app = app
        self.trusted = [ipaddress.ip_network(n, strict=False) for n in trusted_proxies]

    def _from_trusted_proxy(self, scope: dict[str, Any]) -> bool:
        client = scope.get("client")
        try:
            peer = ipaddress.ip_address(client[0]) if client else None
        except ValueError:
            return False
        return peer is not None and any(peer in net for net in self.trusted)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers", []))
        incoming = next((v.decode("latin-1") for k, v in headers if k == b"x-request-id"), None)
        trusted = bool(incoming) and _VALID.match(incoming or "") is not None and self._from_trusted_proxy(scope)
        request_id = incoming if trusted and incoming else new_request_id()
        headers = [(k, v) for k, v in headers if k != b"x-request-id"] + [(b"x-request-id", request_id.encode())]
        from_proxy = self._from_trusted_proxy(scope)
        scope = {**scope, "headers": headers}
        scope.setdefault("state", {})
        # Whether the connection's own peer is a trusted proxy, read before forwarded headers
        # replace the client: auth.mode trusted_header believes its user header only then.
        scope["state"]["from_trusted_proxy"] = from_proxy
        status = {"code": 0}
        started = time.perf_counter()

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode())]}
            await send(message)

        trace_id = telemetry.annotate_request(request_id)  # None unless otel.endpoint is set
        context = {"request_id": request_id} | ({"trace_id": trace_id} if trace_id else {})
        with logger.contextualize(**context):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                path = scope.get("path", "")
                level = "DEBUG" if path.startswith(_QUIET) else "INFO"
                client = scope.get("client")
                logger.log(
                    level,
                    "http method={} path={} status={} duration_ms={:.0f} user={} client={}",
                    scope.get("method"),
                    path[:200],
                    status["code"] or 500,
                    (time.perf_counter() - started) * 1000,
                    scope["state"].get("user") or "-",
                    client[0] if client else "-",
                )
