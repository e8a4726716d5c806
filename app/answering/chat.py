"""The one path for every question, whichever door it comes through (web UI, CLI, any future API):
quota, cache, condense, retrieve, answer, check the answer's claims, account, persist the
conversation."""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass

from loguru import logger

from app import metrics
from app.answering.cache import AnswerCache
from app.answering.claims_check import AnswerClaims
from app.answering.conversations import ConversationService
from app.answering.service import Answer, AnswerService, Turn
from app.auth.libraries import LibraryAccess, Scope
from app.domain import Usage
from app.errors import EmptyQuestion, LLMError, QuestionTooLong, QuotaExceeded
from app.usage.pricing import Pricing
from app.usage.quotas import QuotaService, Reservation

CACHED_MODES = ("generated", "abstained", "not_found")  # answers worth keeping (the others cost nothing to redo)


STOPPED_NOTE = "(stopped)"


@dataclass(frozen=True)
class ChatEvent:
    """A text delta while streaming (with the conversation it is stored in); the last event carries
    the Answer and its conversation."""

    delta: str = ""
    answer: Answer | None = None
    conversation_id: str | None = None


@dataclass(frozen=True)
class TokenEstimate:
    """What a question may cost at most, reserved before the first LLM call."""

    passages_tokens: int  # retrieval.top_k passages in the LLM's tokens
    max_tokens: int  # llm.max_tokens
    context_budget: int  # llm.context_window - llm.max_tokens


class ChatService:
    def __init__(
        self,
        answers: AnswerService,
        conversations: ConversationService,
        quotas: QuotaService,
        pricing: Pricing,
        estimate: TokenEstimate,
        cache: AnswerCache | None = None,
        max_question_chars: int = 4000,
        claims: AnswerClaims | None = None,
        libraries: LibraryAccess | None = None,
    ) -> None:
        self._max_chars = max_question_chars
        # The team libraries each question may also search, read on every question (None: each
        # user's own documents only).
        self._libraries = libraries
        self._claims = claims  # None: answers are not checked (chat.claim_check: false)
        self._answers = answers
        self._conversations = conversations
        self._quotas = quotas
        self._pricing = pricing
        self._estimate = estimate
        self._cache = cache

    @property
    def generation_enabled(self) -> bool:
        return self._answers.generation_enabled

    def stream(
        self,
        owner: str,
        question: str,
        conversation_id: str | None = None,
        doc_ids: Sequence[str] | None = None,
        api_key: str | None = None,
        use_cache: bool = True,
        stopped_note: str = STOPPED_NOTE,
        retry: bool = False,
        history: Sequence[Turn] | None = None,
    ) -> Generator[ChatEvent, None, None]:
        """Answer `question` for `owner`, continuing `conversation_id` when given. `history`: the
        turns before the question when the caller holds them and no stored conversation is named
        (a client that sends its own, e.g. the OpenAI-compatible door); a follow-up is condensed
        with them as with a stored conversation's (bounded by the caller, then by
        chat.history_tokens). `retry`: the
        conversation's last turn asked this question; it is answered again without that turn, and
        the new answer replaces it (a retry that fails leaves the old one in place).

        Raises QuotaExceeded before any LLM call when an allowance would be overdrawn. Every
        question ends with one summary log line and its metrics, whichever door it came through.
        Closing the stream (a stop button, a client gone) cancels the LLM request; the tokens spent
        so far are recorded and the partial answer is kept, ending with `stopped_note`.

        The question is checked here, when the stream is made, not when it is first read: an empty
        question raises EmptyQuestion, one over `max_question_chars` QuestionTooLong (both are
        InvalidQuestion), before any work."""
        self._check(question)
        inner = self._stream(
            owner, question, conversation_id, doc_ids, api_key, use_cache, stopped_note, retry, history
        )
        return self._counted(owner, doc_ids, inner)

    def _check(self, question: str) -> None:
        """The one check of a question, for every door (the edges translate the errors)."""
        if not question.strip():
            raise EmptyQuestion("type a question first")
        if len(question) > self._max_chars:
            # Refused before any work: no retrieval, no embedding, no LLM call, nothing counted.
            raise QuestionTooLong(
                f"the question is {len(question)} characters long; at most {self._max_chars} are accepted "
                "— shorten it or ask about one part at a time",
                length=len(question),
                limit=self._max_chars,
            )

    def _counted(
        self, owner: str, doc_ids: Sequence[str] | None, inner: Generator[ChatEvent, None, None]
    ) -> Generator[ChatEvent, None, None]:
        """`inner`'s events, with the question's metrics and its one summary log line."""
        started = time.perf_counter()
        first: float | None = None
        answer: Answer | None = None
        outcome = "failed"
        try:
            with closing(inner) as events:
                for event in events:
                    if event.answer is not None:
                        answer = event.answer
                        outcome = _outcome(answer)  # decided before the caller may stop reading
                    elif first is None and event.delta:
                        first = time.perf_counter() - started
                        metrics.FIRST_TOKEN_SECONDS.observe(first)
                    yield event
        except QuotaExceeded:
            outcome = "quota"
            raise
        except GeneratorExit:
            if answer is None:
                outcome = "stopped"
            raise
        except LLMError:
            metrics.ANSWER_ERRORS.labels("llm").inc()
            raise
        except Exception as e:
            metrics.ANSWER_ERRORS.labels(type(e).__name__[:40]).inc()
            raise
        finally:
            total = time.perf_counter() - started
            metrics.QUESTIONS.labels(outcome).inc()
            if answer is not None:
                metrics.ANSWER_SECONDS.observe(total)
            usage = answer.usage if answer is not None else {}
            logger.bind(user=owner).info(
                "answer outcome={} documents={} passages={} prompt_tokens={} completion_tokens={} "
                "first_token_s={} total_s={:.2f} cached={}",
                outcome,
                len(doc_ids) if doc_ids else "all",
                len(answer.citations) if answer is not None else 0,
                usage.get("prompt_tokens", 0),
                usage.get("completion_tokens", 0),
                f"{first:.2f}" if first is not None else "-",
                total,
                bool(answer is not None and answer.cached),
            )

    def _stream(
        self,
        owner: str,
        question: str,
        conversation_id: str | None,
        doc_ids: Sequence[str] | None,
        api_key: str | None,
        use_cache: bool = True,
        stopped_note: str = STOPPED_NOTE,
        retry: bool = False,
        given: Sequence[Turn] | None = None,
    ) -> Generator[ChatEvent, None, None]:
        history = self._conversations.history(owner, conversation_id) if conversation_id else list(given or [])
        replace = retry and len(history) >= 2 and history[-2].role == "user" and history[-2].content == question
        if replace:
            history = history[:-2]  # answered again as if the old answer had never been given
        libraries = self._libraries
        scope = libraries.scope(owner, doc_ids) if libraries is not None else Scope.private(owner, doc_ids)
        cache_key = None
        if self._cache is not None and not history and use_cache:  # a follow-up depends on its conversation
            cache_key = self._cache.key(owner, question, scope.doc_ids, tenants=scope.tenants)
            hit = self._cache.get(owner, cache_key)
            if hit is not None:
                yield from self._cached(owner, question, conversation_id, Answer.model_validate(hit), replace)
                return
        reservation = self._reserve(owner, question, history)
        # The conversation exists from the first token on, so a stopped answer has a place to stay.
        created = conversation_id is None
        if conversation_id is None:
            conversation_id = self._conversations.create(owner, question).id
        spent = Usage()
        answer: Answer | None = None
        partial = ""
        cut = False
        try:
            events = self._answers.stream(
                owner, question, history=history, doc_ids=doc_ids, api_key=api_key, spent=spent, scope=scope
            )
            with closing(events):
                for event in events:
                    if event.answer is not None:
                        answer = event.answer
                    else:
                        partial += event.delta
                        yield ChatEvent(delta=event.delta, conversation_id=conversation_id)
            if answer is not None and self._claims is not None:  # before settling: a judge's tokens count
                answer = answer.model_copy(update={"claims": self._claims.check(owner, answer, api_key, spent)})
        except GeneratorExit:
            cut = True
            self._keep_stopped(owner, question, conversation_id, partial, stopped_note, created, replace)
            raise
        except BaseException:
            if created:  # nothing was answered: no empty conversation is left behind
                self._conversations.delete(owner, conversation_id)
            raise
        finally:
            # A question answered "you have no documents" (nothing to search) is not charged as a
            # question; the tokens of a follow-up's condensing call, if any, were spent and count.
            self._settle(reservation, spent, counted=cut or (answer is not None and answer.mode != "no_documents"))
        if answer is None:
            raise RuntimeError("answer stream ended without an answer")
        if cache_key is not None and self._cache is not None and answer.mode in CACHED_MODES:
            self._cache.put(owner, cache_key, answer.model_dump())
        yield self._persist(owner, question, conversation_id, answer, replace)

    def _keep_stopped(
        self,
        owner: str,
        question: str,
        conversation_id: str,
        partial: str,
        note: str,
        created: bool,
        replace: bool = False,
    ) -> None:
        """A stopped answer stays in its conversation as far as it got, marked as stopped; stopped
        before its first word, a new conversation is dropped (its reader never saw it)."""
        if not partial.strip():
            if created:
                self._conversations.delete(owner, conversation_id)
            return
        self._conversations.append(
            owner, conversation_id, question, f"{partial.rstrip()} {note}", [], replace_last=replace
        )
        logger.bind(user=owner).info("answer stopped by the reader chars={}", len(partial))

    def ask(self, owner: str, question: str, **kwargs: object) -> tuple[Answer, str]:
        """Non-streaming: the final Answer and its conversation id."""
        for event in self.stream(owner, question, **kwargs):  # type: ignore[arg-type]
            if event.answer is not None and event.conversation_id is not None:
                return event.answer, event.conversation_id
        raise RuntimeError("answer stream ended without an answer")

    def _cached(
        self, owner: str, question: str, conversation_id: str | None, answer: Answer, replace: bool = False
    ) -> Iterator[ChatEvent]:
        """A cached answer counts as a question but costs no tokens (one cached before claims were
        checked is checked now, without the judge)."""
        self._quotas.settle(self._quotas.reserve(owner, questions=1))
        answer = answer.model_copy(
            update={"cached": True, "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}
        )
        if answer.claims is None and self._claims is not None:
            answer = answer.model_copy(update={"claims": self._claims.check(owner, answer, judge=False)})
        logger.bind(user=owner).info("answer from cache mode={} citations={}", answer.mode, len(answer.citations))
        yield ChatEvent(delta=answer.answer)
        yield self._persist(owner, question, conversation_id, answer, replace)

    def _reserve(self, owner: str, question: str, history: Sequence[object]) -> Reservation:
        model = self._answers.model
        if model is None:  # retrieval only: no tokens to reserve
            return self._quotas.reserve(owner, questions=1)
        e = self._estimate
        asked = self._answers.count_tokens(question)
        past = sum(self._answers.count_tokens(str(getattr(t, "content", ""))) for t in history)
        prompt = min(e.context_budget, 600 + 2 * asked + past + e.passages_tokens)
        worst = Usage(prompt, e.max_tokens)
        if history:  # the condensing call comes first
            worst.add(Usage(min(e.context_budget, 200 + asked + past), 200))
        return self._quotas.reserve(
            owner, questions=1, tokens=worst.total, cost_micro=self._pricing.cost_micro(model, worst)
        )

    def _settle(self, reservation: Reservation, spent: Usage, counted: bool) -> None:
        """Replace the reservation by what the LLM really used; a failed question is not counted."""
        model = self._answers.model
        cost = self._pricing.cost_micro(model, spent) if model is not None else 0
        self._quotas.settle(reservation, questions=1 if counted else 0, tokens=spent.total, cost_micro=cost)

    def _persist(
        self, owner: str, question: str, conversation_id: str | None, answer: Answer, replace: bool = False
    ) -> ChatEvent:
        citations = [c.model_dump() for c in answer.citations]
        claims = None if answer.claims is None else [c.model_dump() for c in answer.claims]
        if conversation_id is None:
            conversation_id = self._conversations.create(owner, question).id
        self._conversations.append(
            owner, conversation_id, question, answer.answer, citations, replace_last=replace, claims=claims
        )
        return ChatEvent(answer=answer, conversation_id=conversation_id)


def _outcome(answer: Answer) -> str:
    if answer.cached:
        return "cached"
    return answer.mode if answer.mode in ("abstained", "not_found") else "answered"
