"""/api/v1/ask (JSON, or Server-Sent Events with `"stream": true` or `Accept: text/event-stream`),
/api/v1/conversations and /api/v1/usage. Questions go through ChatService, the one question flow of
the web app and the CLI: the same quotas, cache, conversations, claim checks and usage records."""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which name the
# dependency aliases made inside router().

import json
from collections.abc import Callable, Iterator
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from loguru import logger
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from app.answering.chat import ChatEvent
from app.api.auth import UserSlots
from app.api.errors import error_body, translate
from app.api.services import ApiServices
from app.api.types import UtcDatetime
from app.auth.tokens import TokenUser
from app.errors import AppError

MAX_DOCUMENTS = 200


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=100_000, description="The question (the server's limit applies)")
    conversation_id: str | None = Field(None, max_length=64, description="Continue this conversation of yours")
    document_ids: list[Annotated[str, Field(max_length=64)]] | None = Field(
        None, max_length=MAX_DOCUMENTS, description="Search only these documents of yours (default: all)"
    )
    stream: bool = Field(False, description="Answer as Server-Sent Events: `delta` events, then `answer`")


class CitationOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    number: int
    doc_id: str
    file: str
    page: int
    page_label: str
    text: str


class AskResponse(BaseModel):
    """The answer as ChatService gives it (fields it adds later, e.g. claim checks, pass through)."""

    model_config = ConfigDict(extra="allow")

    answer: str
    mode: str = Field(description="generated | retrieval_only | abstained | no_documents (or another the service adds)")
    citations: list[CitationOut]
    usage: dict[str, int]
    cached: bool
    conversation_id: str | None
    claims: list[dict[str, Any]] | None = None


class Conversation(BaseModel):
    id: str
    title: str
    updated_at: UtcDatetime


class ConversationList(BaseModel):
    conversations: list[Conversation]
    total: int
    offset: int


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str
    citations: list[dict[str, Any]] | None = None


class ConversationDetail(Conversation):
    messages: list[Message]


class Limit(BaseModel):
    key: str
    used: float
    limit: float | None
    resets_at: UtcDatetime | None


class UsageOut(BaseModel):
    timezone: str
    limits: list[Limit]
    prompt_tokens: int
    completion_tokens: int


def answer_payload(event: ChatEvent) -> dict[str, Any]:
    """The final event of a question as JSON: the Answer's fields and its conversation."""
    assert event.answer is not None
    payload = event.answer.model_dump(mode="json")
    payload.pop("question", None)  # the condensed question used for retrieval: internal
    payload["conversation_id"] = event.conversation_id
    return payload


def first_event(events: Iterator[ChatEvent]) -> ChatEvent | None:
    """The first event, so that a refusal (quota, unknown conversation) is answered with its status
    before a stream's headers go out."""
    return next(events, None)


async def start(
    slots: UserSlots, owner: str, make: Callable[[], Iterator[ChatEvent]]
) -> tuple[ChatEvent | None, Iterator[ChatEvent]]:
    """A question begun under one of the user's slots: its first event and the rest. The slot is
    the caller's to give back once the question ends (also when it fails here: given back here)."""
    slots.take(owner)
    try:
        events = make()
        return await run_in_threadpool(first_event, events), events
    except BaseException:
        slots.give_back(owner)
        raise


def finish(first: ChatEvent | None, events: Iterator[ChatEvent], release: Callable[[], None]) -> ChatEvent:
    """The last event of a question read to its end, its slot given back."""
    try:
        return _last(first, events)
    finally:
        release()


def router(services: ApiServices, read: object, ask: object, slots: UserSlots) -> APIRouter:
    r = APIRouter()
    Reader = Annotated[TokenUser, Depends(read)]
    Asker = Annotated[TokenUser, Depends(ask)]

    @r.post(
        "/ask",
        tags=["ask"],
        response_model=AskResponse,
        summary="Ask your documents",
        responses={200: {"content": {"text/event-stream": {}}, "description": "JSON, or SSE when streaming"}},
    )
    async def ask_route(user: Asker, body: AskRequest, request: Request) -> Any:
        stream = body.stream or "text/event-stream" in request.headers.get("accept", "")
        first, events = await start(
            slots,
            user.username,
            lambda: services.chat.stream(
                user.username, body.question, conversation_id=body.conversation_id, doc_ids=body.document_ids or None
            ),
        )
        release = partial(slots.give_back, user.username)
        if not stream:
            final = await run_in_threadpool(finish, first, events, release)
            return JSONResponse(answer_payload(final))
        return StreamingResponse(
            _sse(first, events, user.username, release),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store"},
        )

    @r.get("/conversations", tags=["conversations"], response_model=ConversationList, summary="Your conversations")
    def list_conversations(
        user: Reader, limit: Annotated[int, Query(ge=1, le=200)] = 50, offset: Annotated[int, Query(ge=0, le=10**9)] = 0
    ) -> ConversationList:
        page = services.conversations.page(user.username, limit, offset)
        return ConversationList(
            conversations=[Conversation.model_validate(c.model_dump()) for c in page.conversations],
            total=page.total,
            offset=page.offset,
        )

    @r.get(
        "/conversations/{conversation_id}",
        tags=["conversations"],
        response_model=ConversationDetail,
        summary="One conversation with its messages",
    )
    def get_conversation(user: Reader, conversation_id: str) -> ConversationDetail:
        from app.errors import NotFound

        if len(conversation_id) > 64:
            raise NotFound("conversation not found")
        info = services.conversations.get(user.username, conversation_id)
        messages = services.conversations.messages(user.username, conversation_id)
        return ConversationDetail(
            **info.model_dump(), messages=[Message.model_validate(m.model_dump()) for m in messages]
        )

    @r.get("/usage", tags=["usage"], response_model=UsageOut, summary="Your usage and limits")
    def usage(user: Reader) -> UsageOut:
        totals = services.usage.totals(user.username)
        return UsageOut(
            timezone=services.quotas.timezone,
            limits=[
                Limit(key=s.key, used=s.used, limit=s.limit, resets_at=s.resets_at)
                for s in services.quotas.status(user.username)
            ],
            prompt_tokens=totals.prompt_tokens,
            completion_tokens=totals.completion_tokens,
        )

    return r


def _last(first: ChatEvent | None, events: Iterator[ChatEvent]) -> ChatEvent:
    final = first
    for event in events:
        final = event
    if final is None or final.answer is None:
        raise RuntimeError("answer stream ended without an answer")
    return final


def _sse(
    first: ChatEvent | None, events: Iterator[ChatEvent], owner: str, release: Callable[[], None]
) -> Iterator[str]:
    """`delta` events with the text as it comes, then one `answer` event with the whole answer, its
    citations (and claim checks) and conversation; a failure midway is an `error` event. A client
    that leaves closes the generator, which stops the LLM call (ChatService keeps the partial answer)."""
    try:
        event = first
        while event is not None:
            if event.answer is not None:
                yield _event("answer", answer_payload(event))
            elif event.delta:
                yield _event("delta", {"text": event.delta, "conversation_id": event.conversation_id})
            event = next(events, None)
        yield _event("done", {})
    except AppError as e:
        api = translate(e)
        yield _event("error", error_body(api.code, api.message, **api.extra))
    except Exception:
        logger.bind(user=owner).exception("api answer stream failed")
        yield _event("error", error_body("internal_error", "unexpected failure"))
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()
        release()


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
