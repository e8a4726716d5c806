"""Prometheus metrics. Below the services that emit them (documents, answering, auth) and above
nothing: any layer may import this module; /metrics in app/web serves it.

Names: pdfqa_<what>_<unit|total>. Label values are small fixed sets (never a user, file or id)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

LOGINS = Counter("pdfqa_logins_total", "Login attempts", ["result"])
QUESTIONS = Counter("pdfqa_questions_total", "Questions answered", ["mode"])
ANSWER_ERRORS = Counter("pdfqa_answer_errors_total", "Questions that failed", ["kind"])
ANSWER_SECONDS = Histogram(
    "pdfqa_answer_seconds", "Time to the complete answer", buckets=(0.25, 0.5, 1, 2, 4, 8, 16, 32, 64)
)
FIRST_TOKEN_SECONDS = Histogram(
    "pdfqa_first_token_seconds", "Time to the first streamed text", buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16)
)
INGESTED = Counter("pdfqa_ingested_files_total", "Files processed by ingestion", ["outcome"])
INGESTED_PAGES = Counter("pdfqa_ingested_pages_total", "Pages indexed")
INGESTED_CHUNKS = Counter("pdfqa_ingested_chunks_total", "Chunks embedded and stored")
INGEST_FAILURES = Counter("pdfqa_ingest_failures_total", "Files that could not be ingested", ["reason"])
INGEST_SECONDS = Histogram(
    "pdfqa_ingest_seconds", "Time to ingest one file", buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600)
)
TOKENS = Counter("pdfqa_llm_tokens_total", "LLM tokens reported by the provider", ["kind"])
