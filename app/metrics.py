"""Prometheus metrics. Below the services that emit them (documents, answering, auth, storage) and
above nothing: any layer may import this module; /metrics in app/web serves it.

Names: pdfqa_<what>_<unit|total>. Label values are small fixed sets (never a user, file or id),
except `model`, which is the configured model name. docs/operating.md "Metrics" lists them with a sample scrape;
app/web/grafana_dashboard.json graphs them."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)

LOGINS = Counter("pdfqa_logins_total", "Login attempts by result (ok, failed, throttled)", ["result"])
ACTIVE_SESSIONS = Gauge("pdfqa_active_sessions", "Signed-in sessions used within the idle limit")

QUESTIONS = Counter(
    "pdfqa_questions_total",
    "Questions by outcome (answered, abstained, not_found, cached, quota, failed, stopped)",
    ["outcome"],
)
ANSWER_ERRORS = Counter("pdfqa_answer_errors_total", "Questions that failed, by kind", ["kind"])
ANSWER_SECONDS = Histogram(
    "pdfqa_answer_seconds", "Time to the complete answer", buckets=(0.25, 0.5, 1, 2, 4, 8, 16, 32, 64)
)
FIRST_TOKEN_SECONDS = Histogram(
    "pdfqa_first_token_seconds", "Time to the first streamed text", buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16)
)
RETRIEVAL_SECONDS = Histogram("pdfqa_retrieval_seconds", "Time to retrieve the passages of one question", buckets=_FAST)
TOKENS = Counter(
    "pdfqa_llm_tokens_total", "Tokens by model, kind (chat, condense, embed) and type", ["model", "kind", "type"]
)
EMBEDDED_TEXTS = Counter("pdfqa_embedded_texts_total", "Texts embedded, by purpose (document, query)", ["purpose"])
EMBED_CALLS = Counter("pdfqa_embedding_calls_total", "Calls to the embedding model, by purpose", ["purpose"])

INGESTED = Counter("pdfqa_ingested_files_total", "Files processed by ingestion", ["outcome"])
INGESTED_PAGES = Counter("pdfqa_ingested_pages_total", "Pages indexed")
INGESTED_CHUNKS = Counter("pdfqa_ingested_chunks_total", "Chunks embedded and stored")
INGEST_FAILURES = Counter("pdfqa_ingest_failures_total", "Files that could not be ingested", ["reason"])
INGEST_SECONDS = Histogram(
    "pdfqa_ingest_seconds", "Time to ingest one file", buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600)
)

QDRANT_SECONDS = Histogram("pdfqa_qdrant_seconds", "Vector store call latency, by operation", ["op"], buckets=_FAST)
DB_SECONDS = Histogram("pdfqa_db_seconds", "Database statement latency", buckets=_FAST)

CLAIMS = Counter("pdfqa_claims_total", "Answer sentences checked against their cited passages, by support", ["support"])
CLAIM_CHECK_FAILURES = Counter("pdfqa_claim_check_failures_total", "Claim checks that failed (answer kept)")
CLAIM_CHECK_SECONDS = Histogram("pdfqa_claim_check_seconds", "Time to check one answer's claims", buckets=_FAST)
