"""Prometheus metrics, exposed at /metrics (outside the login, like /healthz)."""

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
TOKENS = Counter("pdfqa_llm_tokens_total", "LLM tokens reported by the provider", ["kind"])
