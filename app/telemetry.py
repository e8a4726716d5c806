"""Optional OpenTelemetry traces, sent over OTLP/HTTP when `otel.endpoint` is set.

Off by default, and the packages are an extra (`pip install '.[otel]'`): nothing here imports
OpenTelemetry unless tracing is switched on. When on, the web app (FastAPI), the database
(SQLAlchemy) and every HTTP client call (httpx: the LLM and embedding APIs, the Qdrant server) are
instrumented, and the services open spans of their own with `span()` around retrieval and
ingestion. Spans carry names, timings, ids and counts — never question text, document text or keys:
the SQL instrumentation records statements with their placeholders, not the bound values.

Like metrics, this module sits below the services that use it and imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from loguru import logger

from app.errors import ConfigError

# Probes and scrapes would drown the traces.
_EXCLUDED_URLS = "healthz,readyz,metrics"

_provider: Any = None  # the SDK's TracerProvider while tracing is on
_tracer: Any = None


def enabled() -> bool:
    return _provider is not None


def setup(endpoint: str | None, service_name: str, version: str, sample_ratio: float = 1.0) -> bool:
    """Start exporting spans to `endpoint` (an OTLP/HTTP collector, e.g. http://collector:4318).

    Returns False (and does nothing) when no endpoint is configured. Extra exporter settings (auth
    headers, TLS) come from the standard OTEL_EXPORTER_OTLP_* variables, read by the exporter."""
    global _provider, _tracer
    if not endpoint or _provider is not None:
        return _provider is not None
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
    except ImportError as e:
        raise ConfigError(
            "otel.endpoint is set but OpenTelemetry is not installed: install the extra with "
            "`pip install '.[otel]'` (the Docker image includes it), or set otel.endpoint to null"
        ) from e
    traces_url = endpoint.rstrip("/")
    if not traces_url.endswith("/v1/traces"):
        traces_url += "/v1/traces"
    provider = TracerProvider(
        resource=Resource.create({"service.name": service_name, "service.version": version}),
        sampler=ParentBased(TraceIdRatioBased(sample_ratio)),
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_url)))
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    _provider, _tracer = provider, trace.get_tracer("app", version, tracer_provider=provider)
    logger.info("tracing on endpoint={} service={} sample_ratio={}", traces_url, service_name, sample_ratio)
    return True


def instrument_web_app(app: Any) -> None:
    if _provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, tracer_provider=_provider, excluded_urls=_EXCLUDED_URLS)


def instrument_database(engine: Any) -> None:
    if _provider is None:
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # The instrumentation declares support up to SQLAlchemy 2.0; it works through the engine's
    # cursor events, which 2.1 keeps, so its version check is skipped.
    SQLAlchemyInstrumentor().instrument(
        engine=engine, tracer_provider=_provider, enable_commenter=False, skip_dep_check=True
    )


Attribute = str | int | float | bool
Note = Callable[..., None]


def _ignore(**_attributes: Attribute) -> None:
    return None


@contextmanager
def span(name: str, **attributes: Attribute) -> Iterator[Note]:
    """A span around a synchronous piece of work (not across a generator's yields: those may resume
    in another thread, where the span's context would not be current). Yields a function that adds
    attributes once they are known (outcome, counts)."""
    if _tracer is None:
        yield _ignore
        return
    with _tracer.start_as_current_span(name, attributes=attributes) as current:
        yield lambda **more: current.set_attributes(more)


def annotate_request(request_id: str) -> str | None:
    """Put the request id on the current server span; the trace id, for the log line, or None."""
    if _provider is None:
        return None
    from opentelemetry import trace

    current = trace.get_current_span()
    context = current.get_span_context()
    if not context.is_valid:
        return None
    current.set_attribute("app.request_id", request_id)
    return f"{context.trace_id:032x}"


def shutdown() -> None:
    """Flush what is buffered (called when the server stops)."""
    global _provider, _tracer
    if _provider is None:
        return
    try:
        _provider.shutdown()
    except Exception as e:  # a collector that is gone must not stop the shutdown
        logger.warning("tracing flush failed error={}", type(e).__name__)
    _provider = _tracer = None
