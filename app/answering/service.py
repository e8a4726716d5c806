"""Answering: condense a follow-up, retrieve, prompt, stream, cite. Used by the CLI and the web UI."""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from llama_index.core.llms import ChatMessage, MessageRole
from loguru import logger
from pydantic import BaseModel, Field

from app.answering import prompts
from app.answering.retrieval import Passage, Retriever
from app.auth.libraries import Scope
from app.config import ChatSettings
from app.domain import Claim, Usage
from app.errors import LLMError
from app.models.llm import ChatModel, StreamResult
from app.models.tokens import cl100k
from app.usage.accounting import UsageRecorder

_CITE = re.compile(r"\[(\d{1,2})\]")
QUOTE_CHARS = 300


class Citation(BaseModel):
    number: int
    doc_id: str
    file: str
    page: int
    page_label: str
    score: float
    text: str  # a short quote
    passage: str = ""  # the whole retrieved passage, for the page view
    start: int
    end: int
    section: str = ""  # heading path from the PDF outline, when it has one
    ocr: bool = False  # the page's text was recognised from its image: the reader should check the image
    weak: bool = False  # shown without a model although it matches the question only weakly
    library: str = ""  # the team library the document is in ("": the asker's own)
    # The passage's stored vector, for the claim check only: never serialised (stored messages,
    # the answer cache, JSON), so a cached or reloaded answer has None and is embedded again.
    vector: list[float] | None = Field(default=None, exclude=True, repr=False)
    surroundings: str = Field(default="", exclude=True, repr=False)  # likewise: the chunks around it

    def __eq__(self, other: object) -> bool:
        """Equal when what is shown and stored is (a cached answer's citations have no vector)."""
        if not isinstance(other, Citation):
            return NotImplemented
        return self.model_dump() == other.model_dump()


class Answer(BaseModel):
    question: str  # the standalone question used for retrieval
    answer: str
    citations: list[Citation]
    usage: dict[str, int]
    # abstained: nothing matched, refused before the model; not_found: the model read the passages
    # and said they do not answer (no citations then)
    mode: Literal["generated", "retrieval_only", "abstained", "not_found", "no_documents"]
    cached: bool = False  # served from the answer cache, without calling the LLM
    claims: list[Claim] | None = None  # the claim check of each sentence (ChatService); None: not checked


@dataclass(frozen=True)
class Turn:
    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class AnswerEvent:
    """A text delta while streaming; the last event carries the complete Answer."""

    delta: str = ""
    answer: Answer | None = None


class AnswerService:
    def __init__(
        self,
        retriever: Retriever,
        llm: ChatModel | None,
        settings: ChatSettings,
        usage: UsageRecorder,
        context_budget: int | None = None,
    ) -> None:
        self._retriever = retriever
        self._llm = llm
        self._settings = settings
        self._usage = usage
        # Prompt tokens a request may use: the model's context window less the answer's max_tokens.
        self._context_budget = context_budget
        self._tokens = cl100k()  # budgets and estimates; recorded usage comes from the API when it reports it

    @property
    def model(self) -> str | None:
        return self._llm.model if self._llm is not None else None

    def count_tokens(self, text: str) -> int:
        return len(self._tokens.encode(text, disallowed_special=()))

    @property
    def generation_enabled(self) -> bool:
        return self._llm is not None

    def stream(
        self,
        owner: str,
        question: str,
        history: Sequence[Turn] = (),
        doc_ids: Sequence[str] | None = None,
        api_key: str | None = None,
        spent: Usage | None = None,
        scope: Scope | None = None,
    ) -> Generator[AnswerEvent, None, None]:
        """Stream an answer grounded in `owner`'s documents (all, or only `doc_ids`), or in the
        tenants of `scope` (their own and their team libraries'; then `doc_ids` is ignored).

        Every LLM call is recorded, and added to `spent` as it happens, so that a caller can settle a
        quota even when the stream fails or is closed early (then the tokens are estimated)."""
        lang = prompts.language_of(question)
        usage = Usage()
        spent = spent if spent is not None else Usage()
        llm = self._llm
        recent = self._recent(history)
        standalone = question
        if llm is not None and recent and self._settings.condense:
            condense = self._condense_messages(recent, question)
            standalone, used = llm.complete(condense, api_key)
            if not used.total:  # a provider that reports no usage: estimate it, as for answers
                used = self._estimate(condense, standalone)
            standalone = standalone or question
            usage.add(used)
            spent.add(used)
            self._usage.record(owner, "condense", llm.model, used)
        if scope is not None:
            retrieval = self._retriever.retrieve(
                owner, standalone, scope.doc_ids, tenants=scope.tenants, labels=scope.labels
            )
        else:
            retrieval = self._retriever.retrieve(owner, standalone, doc_ids)
        passages = retrieval.passages
        if not passages:
            yield from self._fixed(standalone, prompts.NO_DOCUMENTS[lang], [], usage, "no_documents")
            return
        if retrieval.abstained:  # nothing matches at all: the model would have nothing to read
            yield from self._fixed(standalone, prompts.NOT_FOUND[lang], [], usage, "abstained")
            return
        if llm is None:  # weak matches too are shown, labelled as such
            text = (prompts.RETRIEVAL_ONLY_WEAK if retrieval.weak else prompts.RETRIEVAL_ONLY)[lang]
            cited = _citations(passages, None, weak=retrieval.weak)
            yield from self._fixed(standalone, text, cited, usage, "retrieval_only")
            return
        passages = self._fit(passages, recent, question, standalone)
        messages = self._answer_messages(recent, question, standalone, passages)
        result = StreamResult()
        deltas = llm.stream(messages, result, api_key)
        held: str | None = ""  # the reply's beginning while it may be the not-found marker (never shown)
        try:
            for delta in deltas:
                if held is None:
                    yield AnswerEvent(delta=delta)
                elif prompts.may_be_not_found(held + delta):
                    held += delta
                else:
                    yield AnswerEvent(delta=held + delta)
                    held = None
        except GeneratorExit:  # the reader went away mid-answer (browser closed, CLI interrupted)
            self._record_cut(owner, llm.model, messages, result, spent)
            raise
        except LLMError:
            if result.text:  # the provider had started answering, so the prompt was billed
                self._record_cut(owner, llm.model, messages, result, spent)
            raise
        finally:
            deltas.close()
        if not result.usage.total:  # a provider that reports no usage: estimate it
            result.usage = self._estimate(messages, result.text)
        usage.add(result.usage)
        spent.add(result.usage)
        self._usage.record(owner, "chat", llm.model, result.usage)
        not_found = prompts.is_not_found(result.text)
        logger.bind(user=owner).info(
            "answered passages={} weak={} not_found={} prompt_tokens={} completion_tokens={}",
            len(passages),
            retrieval.weak,
            not_found,
            result.usage.prompt_tokens,
            result.usage.completion_tokens,
        )
        if not_found:  # the model read the passages and found no answer in them: none is cited
            yield from self._fixed(standalone, prompts.NOT_FOUND[lang], [], usage, "not_found")
            return
        if held:  # a reply that only looked like the marker's beginning
            yield AnswerEvent(delta=held)
        text = prompts.without_marker(result.text)
        yield AnswerEvent(
            answer=Answer(
                question=standalone,
                answer=text,
                citations=_citations(passages, text),
                usage=_usage_dict(usage),
                mode="generated",
            )
        )

    def _estimate(self, messages: Sequence[ChatMessage], completion: str) -> Usage:
        """Tokens by our tokenizer, for providers (or cut streams) that report none."""
        prompt = sum(self.count_tokens(str(m.content or "")) + 4 for m in messages)
        return Usage(prompt, self.count_tokens(completion))

    def _record_cut(
        self, owner: str, model: str, messages: Sequence[ChatMessage], result: StreamResult, spent: Usage
    ) -> None:
        used = result.usage if result.usage.total else self._estimate(messages, result.text)
        spent.add(used)
        self._usage.record(owner, "chat", model, used)
        logger.bind(user=owner).info(
            "answer cut short prompt_tokens={} completion_tokens={}", used.prompt_tokens, used.completion_tokens
        )

    def _fit(self, passages: list[Passage], recent: list[Turn], question: str, standalone: str) -> list[Passage]:
        """The best passages whose prompt fits the context budget (at least one, cut if need be)."""
        if self._context_budget is None:
            return passages
        fixed = self.count_tokens(prompts.SYSTEM) + self.count_tokens(question) + self.count_tokens(standalone) + 64
        budget = self._context_budget - fixed - sum(self.count_tokens(t.content) + 4 for t in recent)
        kept: list[Passage] = []
        for p in passages:
            cost = self.count_tokens(p.text) + self.count_tokens(p.file) + self.count_tokens(p.section) + 16
            if cost > budget:
                if not kept and budget > 32:  # a single over-long passage: keep its beginning
                    ids = self._tokens.encode(p.text, disallowed_special=())[: budget - 32]
                    # cut: the stored vector is no longer the text's
                    kept.append(p.model_copy(update={"text": self._tokens.decode(ids), "vector": None}))
                break
            kept.append(p)
            budget -= cost
        if len(kept) < len(passages):
            logger.info("context trimmed passages={} kept={}", len(passages), len(kept))
        return kept

    def ask(self, owner: str, question: str, **kwargs: object) -> Answer:
        """Non-streaming convenience: the final Answer."""
        for event in self.stream(owner, question, **kwargs):  # type: ignore[arg-type]
            if event.answer is not None:
                return event.answer
        raise RuntimeError("answer stream ended without an answer")

    def _fixed(
        self,
        question: str,
        text: str,
        citations: list[Citation],
        usage: Usage,
        mode: Literal["retrieval_only", "abstained", "not_found", "no_documents"],
    ) -> Iterator[AnswerEvent]:
        yield AnswerEvent(delta=text)
        yield AnswerEvent(
            answer=Answer(question=question, answer=text, citations=citations, usage=_usage_dict(usage), mode=mode)
        )

    def _recent(self, history: Sequence[Turn]) -> list[Turn]:
        """The most recent turns that fit in chat.history_tokens."""
        kept: list[Turn] = []
        budget = self._settings.history_tokens
        for turn in reversed(history):
            cost = len(self._tokens.encode(turn.content, disallowed_special=()))
            if cost > budget:
                break
            kept.insert(0, turn)
            budget -= cost
        return kept

    @staticmethod
    def _condense_messages(recent: list[Turn], question: str) -> list[ChatMessage]:
        history = "\n".join(f"{t.role}: {t.content}" for t in recent)
        return [ChatMessage(role=MessageRole.USER, content=prompts.CONDENSE.format(history=history, question=question))]

    @staticmethod
    def _answer_messages(
        recent: list[Turn], question: str, standalone: str, passages: list[Passage]
    ) -> list[ChatMessage]:
        sources = prompts.format_sources([(i, p.file, p.page, p.section, p.text) for i, p in enumerate(passages, 1)])
        messages = [ChatMessage(role=MessageRole.SYSTEM, content=prompts.SYSTEM)]
        for turn in recent:
            role = MessageRole.USER if turn.role == "user" else MessageRole.ASSISTANT
            messages.append(ChatMessage(role=role, content=turn.content))
        asked = question if standalone == question else f"{question}\n(Standalone: {standalone})"
        messages.append(ChatMessage(role=MessageRole.USER, content=prompts.user_message(asked, sources)))
        return messages


def _quote(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= QUOTE_CHARS else flat[: QUOTE_CHARS - 1] + "…"


def _citations(passages: list[Passage], answer: str | None, weak: bool = False) -> list[Citation]:
    """The passages the answer cites by number; all passages when it cites none (or no LLM).
    `weak`: they are shown although they match the question only weakly (no LLM)."""
    cited = {int(n) for n in _CITE.findall(answer or "")}
    numbered = list(enumerate(passages, 1))
    chosen = [(n, p) for n, p in numbered if n in cited] or numbered
    return [
        Citation(
            number=n,
            doc_id=p.doc_id,
            file=p.file,
            page=p.page,
            page_label=p.page_label,
            score=round(p.score, 4),
            text=_quote(p.text),
            passage=p.text,
            start=p.start,
            end=p.end,
            section=p.section,
            ocr=p.ocr,
            weak=weak,
            library=p.library,
            vector=p.vector,
            surroundings=p.surroundings,
        )
        for n, p in chosen
    ]


def _usage_dict(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
    }
