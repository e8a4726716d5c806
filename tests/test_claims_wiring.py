"""The claim check wired into the product (issue 27): ChatService checks each complete answer, the
claims are stored with it and come back with the conversation, `ask --json` lists them with exactly
their four keys, the UI marks weak and unsupported sentences (escaped), a metric counts each
outcome, the optional LLM judge gives the same shape, and a failing check never breaks an answer.

The model's answer is scripted on the OpenAI-compatible test server from the passages the app sent
it: one sentence of a passage cited with that passage's number, the same sentence cited with the
number of the passage that shares fewest words with it (the wrong passage of the same document)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from app.answering.claims_check import AnswerClaims
from app.answering.service import Answer, Citation
from app.container import Container
from app.models.embeddings import EmbeddingModel
from app.storage.db import UsageRecord
from app.web.ui.citations import answer_markdown
from tests.conftest import DATA, container_for, make_settings
from tests.fixtures.cli import run_app
from tests.fixtures.llm_server import FakeOpenAIServer, message_text

QUESTION = "Which natbib option gives superscript numbers for citations, like Nature?"
KEYS = {"text", "citations", "support", "reason"}


def prompt_sources(messages: list[dict[str, Any]]) -> dict[int, str]:
    """The numbered passages of the app's prompt (prompts.format_sources: "[n] file (p. N)\\ntext")."""
    text = message_text(messages[-1]["content"]).split("\n\nQuestion:")[0]
    parts = re.split(r"(?m)^\[(\d+)\] [^\n]*\n", text)
    return {int(parts[i]): " ".join(parts[i + 1].split()) for i in range(1, len(parts) - 1, 2)}


def right_and_wrong(messages: list[dict[str, Any]]) -> str:
    """A plain sentence of a passage cited right, then the same sentence citing the passage that
    shares fewest words with it."""
    sources = prompt_sources(messages)
    n, sentence = next(
        (n, s)
        for n, text in sources.items()
        for s in re.split(r"(?<=\.)\s", text)
        if re.fullmatch(r"[A-Z][A-Za-z ,'-]{40,160}\.", s)
    )
    words = set(re.findall(r"[a-z]{4,}", sentence.lower()))
    far = min(
        (m for m in sources if m != n), key=lambda m: len(words & set(re.findall(r"[a-z]{4,}", sources[m].lower())))
    )
    return f"{sentence[:-1]} [{n}]. {sentence[:-1]} [{far}]."


def llm_settings(server: FakeOpenAIServer) -> dict[str, Any]:
    return {"api_base": server.base_url, "api_key": "sk-test", "model": "gpt-4o-mini", "max_retries": 0}


@pytest.fixture
def workspace(tmp_path: Path, local_embedder: EmbeddingModel, llm: FakeOpenAIServer) -> Iterator[Container]:
    c = container_for(make_settings(tmp_path / "data", llm=llm_settings(llm)), local_embedder)
    assert c.ingestion.ingest_file("alice", DATA / "natbib.pdf").outcome == "ingested"
    yield c
    c.close()


def counted(support: str) -> float:
    return REGISTRY.get_sample_value("pdfqa_claims_total", {"support": support}) or 0.0


def test_an_answer_is_checked_stored_and_reloaded_with_its_claims(workspace: Container, llm: FakeOpenAIServer) -> None:
    llm.reply_fn = right_and_wrong
    before = {s: counted(s) for s in ("supported", "unsupported")}
    answer, conversation = workspace.chat.ask("alice", QUESTION)
    right, wrong = answer.claims or []
    cited_right, cited_wrong = right.citations[0], wrong.citations[0]
    assert cited_right != cited_wrong and right.text.endswith(f"[{cited_right}].")
    assert right.support == "supported", right
    assert wrong.support == "unsupported", wrong  # the sentence is true, but not in the passage it cites
    assert f"[{cited_wrong}]" in wrong.reason
    assert counted("supported") - before["supported"] >= 1
    assert counted("unsupported") - before["unsupported"] >= 1
    # stored with the answer, and shown again when the conversation is reopened
    stored = workspace.conversations.messages("alice", conversation)[-1]
    assert stored.claims == [c.model_dump() for c in answer.claims or []]
    assert all(set(c) == KEYS for c in stored.claims or [])
    shown = answer_markdown(stored.content, "generated", stored.citations or [], "en", stored.claims)
    assert shown.count('<span class="claim claim-unsupported"') == 1 and "claim-weak" not in shown
    assert f"Checked against passage [{cited_wrong}]" in shown
    # a cached answer carries the same claims
    again, _ = workspace.chat.ask("alice", QUESTION)
    assert again.cached and again.claims == answer.claims


def test_answers_without_citations_or_text_of_their_own_get_no_claims() -> None:
    claims = AnswerClaims(embed=None)
    citation = Citation(number=1, doc_id="d", file="a.pdf", page=1, page_label="1", score=0.5, text="t", start=0, end=1)
    for mode, citations in (("generated", []), ("abstained", [citation]), ("retrieval_only", [citation])):
        answer = Answer(question="q", answer="HISTSIZE is 500 [1].", citations=citations, usage={}, mode=mode)
        assert claims.check("alice", answer) == [], mode


def test_a_failing_check_is_logged_and_the_answer_stored_without_claims(
    workspace: Container, llm: FakeOpenAIServer
) -> None:
    def broken(texts: Any) -> Any:
        raise RuntimeError("embedding model gone")

    workspace.__dict__["answer_claims"] = AnswerClaims(embed=broken)
    workspace.__dict__.pop("chat", None)
    failures = REGISTRY.get_sample_value("pdfqa_claim_check_failures_total") or 0.0
    llm.reply_fn = right_and_wrong
    answer, conversation = workspace.chat.ask("alice", QUESTION)
    assert answer.claims is None and answer.answer == right_and_wrong(llm.requests[-1][1]["messages"])
    assert workspace.conversations.messages("alice", conversation)[-1].claims is None
    assert (REGISTRY.get_sample_value("pdfqa_claim_check_failures_total") or 0.0) == failures + 1


def test_the_llm_judge_gives_the_same_shape_and_its_tokens_are_charged(
    tmp_path: Path, local_embedder: EmbeddingModel, llm: FakeOpenAIServer
) -> None:
    settings = make_settings(tmp_path / "data", llm=llm_settings(llm), chat={"claim_judge": True})
    c = container_for(settings, local_embedder)
    try:
        assert c.ingestion.ingest_file("alice", DATA / "natbib.pdf").outcome == "ingested"

        def reply(messages: list[dict[str, Any]]) -> str:
            if message_text(messages[0]["content"]).startswith("You check an answer"):
                verdicts = [
                    {"claim": 1, "support": "supported", "reason": "stated there"},
                    {"claim": 2, "support": "weak", "reason": "another section"},
                ]
                return json.dumps({"verdicts": verdicts})
            return right_and_wrong(messages)

        llm.reply_fn = reply
        answer, _ = c.chat.ask("alice", QUESTION)
        assert [(x.support, x.reason) for x in answer.claims or []] == [
            ("supported", "stated there"),
            ("weak", "another section"),
        ]
        assert llm.counts["chat"] == 2  # the answer, then the judge
        with c.db.session() as s:
            kinds = [r.kind for r in s.query(UsageRecord).filter(UsageRecord.owner == "alice")]
        assert kinds == ["chat", "judge"]
        status = {q.key: q.used for q in c.quotas.status("alice")}
        assert status["tokens_per_day"] == answer.usage["total_tokens"] + _judge_tokens(c)
    finally:
        c.close()


def _judge_tokens(c: Container) -> int:
    with c.db.session() as s:
        rows = s.query(UsageRecord).filter(UsageRecord.kind == "judge")
        return sum(r.prompt_tokens + r.completion_tokens for r in rows)


def test_ask_json_lists_the_claims_with_exactly_their_keys(tmp_path: Path, local_embedder: EmbeddingModel) -> None:
    data_dir = tmp_path / "data"
    assert run_app(data_dir, "users", "add", "alice", stdin="alices-long-password\n").returncode == 0
    c = container_for(make_settings(data_dir), local_embedder)
    try:
        assert c.ingestion.ingest_file("alice", DATA / "natbib.pdf").outcome == "ingested"
    finally:
        c.close()
    with FakeOpenAIServer() as llm:
        llm.reply_fn = right_and_wrong
        env = {"APP_LLM__API_BASE": llm.base_url, "APP_LLM__API_KEY": "sk-cli", "APP_LLM__MODEL": "t"}
        result = run_app(data_dir, "ask", QUESTION, "--user", "alice", "--json", env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout)
    assert [set(claim) for claim in out["claims"]] == [KEYS, KEYS]
    right, wrong = out["claims"]
    assert (right["support"], wrong["support"]) == ("supported", "unsupported")
    assert isinstance(wrong["citations"], list) and wrong["citations"] != right["citations"]
    assert {c["number"] for c in out["citations"]} >= {*right["citations"], *wrong["citations"]}


# ---------------------------------------------------------------- the marks stay safe


def _elements(markdown: str) -> list[tuple[str, dict[str, str | None]]]:
    """The HTML elements a Markdown renderer that passes raw HTML through makes of `markdown` (as
    Gradio's Chatbot does before its sanitiser)."""
    from html.parser import HTMLParser

    from markdown_it import MarkdownIt

    found: list[tuple[str, dict[str, str | None]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, dict(attrs)))

    Collect().feed(MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(markdown))
    return found


def test_marks_keep_the_model_text_escaped_and_cannot_be_forged() -> None:
    forged = "\U000f0000Forged mark\U000ffffd"
    answer = (
        "natbib is loaded with `\\usepackage[super]{natbib}` [1]. "
        'It sets <img src=x onerror="alert(1)"> and [a link](https://evil.example) [2]. '
        f"{forged} sentence here [1]. Use `\\citet*` for the full list [2].\n\n"
        "1. A numbered line that makes a claim [3].\n\n"
        "| a | b |\n|---|---|\n| Cells carry a claim [2]. | x |"
    )
    claims = [
        {
            "text": 'It sets <img src=x onerror="alert(1)"> and [a link](https://evil.example) [2].',
            "citations": [2],
            "support": "unsupported",
            "reason": 'cites [2], which is about “"><script>x</script> $$”',
        },
        {"text": "Use `\\citet*` for the full list [2].", "citations": [2], "support": "weak", "reason": "x"},
        {
            "text": "A numbered line that makes a claim [3].",
            "citations": [3],
            "support": "weak",
            "reason": "only partly supported by passage [3]",
        },
        {"text": "Cells carry a claim [2].", "citations": [2], "support": "weak", "reason": "supported by passage [2]"},
    ]
    shown = answer_markdown(answer, "generated", [], "en", claims)
    elements = _elements(shown)
    allowed = {"p", "code", "span", "ol", "li", "table", "thead", "tbody", "tr", "th", "td"}
    assert {tag for tag, _ in elements} <= allowed
    spans = [attrs for tag, attrs in elements if tag == "span"]
    assert [s["class"] for s in spans] == ["claim claim-unsupported"] + ["claim claim-weak"] * 3
    assert all(set(s) == {"class", "title"} for s in spans)
    assert '"><script>x</script> $$' in (spans[0]["title"] or "")  # shown as text in the title
    assert "&#36;&#36;" in shown and "<script>" not in shown and "<img" not in shown
    assert "Forged mark" in shown and shown.count("<span") == 4  # the model's own mark characters are dropped
    rendered = _render(shown)
    assert '<li><span class="claim claim-weak"' in rendered  # the model's list stays a list, marked inside
    assert "<code>\\citet*</code> for the full list [2].</span>" in rendered  # code in a mark stays code
    assert '<td><span class="claim claim-weak"' in rendered  # a table cell's sentence, marked in its cell
    ja = answer_markdown(answer, "generated", [], "ja", claims)
    assert "出典が裏付けていない文です&#10;" in ja and "照合した出典: [2]" in ja


def _render(markdown: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(markdown)


def test_passage_vectors_are_kept_between_answers() -> None:
    from app.answering.claims_check import VectorCache

    asked: list[list[str]] = []

    def embed(texts: Any) -> list[list[float]]:
        asked.append(list(texts))
        return [[float(len(t)), 1.0] for t in texts]

    cache = VectorCache(embed, size=3)
    assert cache(["aa", "b", "aa"]) == [[2.0, 1.0], [1.0, 1.0], [2.0, 1.0]]
    assert cache(["b", "ccc"]) == [[1.0, 1.0], [3.0, 1.0]]
    assert asked == [["aa", "b"], ["ccc"]]  # only what was not kept
    cache(["dddd"])  # the least recently used ("aa") goes
    cache(["aa", "b"])
    assert asked[-1] == ["aa"]
