"""Retrieval evaluation: ingest a folder into a fresh workspace, retrieve for every question,
score hit@k / MRR against the expected pages, and what the gate does: answerable questions refused
before the model (false refusals, "false_abstentions"), unanswerable ones that end refused or
labelled weak (the model then reads the passages and says they do not answer; without a model they
are shown labelled weak).

What is scored is what the language model would receive: the `retrieval.top_k` passages the
answer service asks for, collapsed to distinct pages, best first. A question whose page is not
among those passages is a miss, however close it came.

Questions marked `"split": "heldout"` are scored like the others but never used for calibration
or tuning (`tuning_questions`); the metrics are reported per split and language as well.

Output lines ({"id", "retrieved": [{"file", "page", "score"}], "abstained", "weak"}) are a public
format ("abstained": refused before the model, nothing matched; "weak": matched only weakly).

With a model (`eval --answer`), each question is also answered as a user would be answered, and the
row gains "answer": {"mode", "cited": [{"file", "page"}]}: what the model does with the passages the
gate let through. Scored: answerable questions the model declared not found (`answered_not_found`),
unanswerable ones that ended refused or not found (`unanswerable_not_found`), and answerable answers
citing an expected page (`cites_expected`).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from app.answering.retrieval import Retrieval, Retriever
from app.answering.service import AnswerService
from app.documents.ingestion import IngestionService

EVAL_USER = "eval"
HELDOUT = "heldout"


class Question(BaseModel):
    id: str
    question: str
    pdf: str | None = None
    pages: list[int] | None = None
    lang: str | None = None
    answerable: bool | None = None
    split: str | None = None  # "tune" or "heldout"; held-out questions never feed calibration or tuning

    @property
    def labelled(self) -> bool:
        """Scored only when marked: answerable with "pdf" and "pages", or unanswerable with
        `"answerable": false` (or an empty "pages" list). A bare {id, question} line is not scored."""
        return self.unanswerable or bool(self.pdf and self.pages)

    @property
    def unanswerable(self) -> bool:
        return self.answerable is False or self.pages == []

    @property
    def held_out(self) -> bool:
        return self.split == HELDOUT


class Metrics(BaseModel):
    n: int = 0
    hit1: float = 0.0
    hit3: float = 0.0
    hit5: float = 0.0
    mrr: float = 0.0
    unanswerable: int = 0
    abstained_correctly: float = 0.0  # share of unanswerable questions refused before the model
    not_found_or_weak: float = 0.0  # share of unanswerable questions refused or labelled weak
    false_abstentions: int = 0  # answerable questions refused before the model (false refusals)
    weak_answerable: int = 0  # answerable questions labelled weak (not refused: the model reads them)
    # With a model (`eval --answer`) only; None when the questions were not answered:
    answered_not_found: int | None = None  # answerable questions ending refused or "not found"
    unanswerable_not_found: float | None = None  # share of unanswerable ones ending refused or "not found"
    cites_expected: float | None = None  # share of answerable ones whose answer cites an expected page


def load_questions(path: Path) -> list[Question]:
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                questions.append(Question.model_validate(json.loads(line)))
            except ValueError as e:
                raise ValueError(f"{path}:{number}: not a question line ({e})") from e
    return questions


def tuning_questions(questions: Iterable[Question]) -> list[Question]:
    """The questions that calibration and tuning may look at: all but the held-out split."""
    return [q for q in questions if not q.held_out]


def ingest_folder(ingestion: IngestionService, docs: Path) -> tuple[int, float]:
    """(pages ingested, seconds)."""
    pages, started = 0, time.perf_counter()
    for pdf in sorted(p for p in docs.rglob("*") if p.suffix.lower() == ".pdf"):
        result = ingestion.ingest_file(EVAL_USER, pdf)
        pages += result.pages
    return pages, time.perf_counter() - started


def retrieve_all(
    retriever: Retriever, questions: Iterable[Question], mode: str | None = None
) -> list[tuple[dict[str, Any], Retrieval]]:
    """(output row, full retrieval) per question; the row is the public output format.

    Retrieves exactly as the answer service does (no explicit limit, so `retrieval.top_k`
    passages): the row's pages are the distinct pages of the passages the model would read."""
    results = []
    for q in questions:
        retrieval = retriever.retrieve(EVAL_USER, q.question, mode=mode)
        pages = retrieval.pages()
        row = {
            "id": q.id,
            "retrieved": [{"file": p.file, "page": p.page, "score": round(p.score, 5)} for p in pages],
            "abstained": retrieval.abstained,
            "weak": retrieval.weak,
        }
        results.append((row, retrieval))
    return results


NOT_ANSWERED = ("abstained", "not_found")


def answer_all(answers: AnswerService, questions: Iterable[Question], rows: list[dict[str, Any]]) -> None:
    """Answer every question with the model, as a user asking it would be answered (no cache, no
    conversation); each row gains "answer": the mode and the pages its citations point at."""
    for q, row in zip(questions, rows, strict=True):
        answer = answers.ask(EVAL_USER, q.question)
        cited = [{"file": c.file, "page": c.page} for c in answer.citations]
        row["answer"] = {"mode": answer.mode, "cited": cited}


def score(questions: list[Question], rows: list[dict[str, Any]]) -> dict[str, Metrics]:
    """Metrics overall ("all"), per language ("en"), per split ("heldout") and per split and
    language ("heldout/en"), for questions that carry pdf/pages; groups in that order."""
    groups: dict[str, list[tuple[Question, dict[str, Any]]]] = defaultdict(list)
    for q, row in zip(questions, rows, strict=True):
        groups["all"].append((q, row))
        if q.lang:
            groups[q.lang].append((q, row))
    for q, row in zip(questions, rows, strict=True):
        if q.split:
            groups[q.split].append((q, row))
            if q.lang:
                groups[f"{q.split}/{q.lang}"].append((q, row))
    return {name: _metrics(items) for name, items in groups.items()}


def _metrics(items: list[tuple[Question, dict[str, Any]]]) -> Metrics:
    m = Metrics()
    abstained_ok = caught = 0
    answered = [row["answer"] for _, row in items if "answer" in row]
    not_found = cites = 0
    for q, row in items:
        if not q.labelled:
            continue
        weak = bool(row["abstained"] or row.get("weak"))  # rows written before "weak" existed
        said = row.get("answer") or {}
        if q.unanswerable:
            m.unanswerable += 1
            abstained_ok += bool(row["abstained"])
            caught += weak
            not_found += said.get("mode") in NOT_ANSWERED
            continue
        m.n += 1
        m.false_abstentions += bool(row["abstained"])
        m.weak_answerable += weak and not row["abstained"]
        expected = set(q.pages or ())
        if said:
            m.answered_not_found = (m.answered_not_found or 0) + (said["mode"] in NOT_ANSWERED)
            cites += any(c["file"] == q.pdf and c["page"] in expected for c in said["cited"])
        ranks = [i for i, r in enumerate(row["retrieved"], 1) if r["file"] == q.pdf and r["page"] in expected]
        rank = ranks[0] if ranks else None
        m.hit1 += rank is not None and rank <= 1
        m.hit3 += rank is not None and rank <= 3
        m.hit5 += rank is not None and rank <= 5
        m.mrr += 1.0 / rank if rank else 0.0
    if m.n:
        m.hit1, m.hit3, m.hit5, m.mrr = (round(x / m.n, 4) for x in (m.hit1, m.hit3, m.hit5, m.mrr))
    if m.unanswerable:
        m.abstained_correctly = round(abstained_ok / m.unanswerable, 4)
        m.not_found_or_weak = round(caught / m.unanswerable, 4)
    if answered:
        m.answered_not_found = m.answered_not_found or 0
        m.cites_expected = round(cites / m.n, 4) if m.n else None
        m.unanswerable_not_found = round(not_found / m.unanswerable, 4) if m.unanswerable else None
    return m
