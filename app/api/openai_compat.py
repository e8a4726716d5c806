"""An OpenAI-compatible door: /v1/models and /v1/chat/completions, so existing OpenAI clients and
chat tools ask your documents. Each model names what is searched: `my-documents` (the token's
user's own documents) or `library:<name>` (one of the team libraries the user is a member of).
The last user message is the question; the user and assistant messages before it are the
conversation's history, with which the chat service condenses a follow-up ("and who leads it?") as
it does the web chat's: the last EARLIER_MESSAGES of them, each cut to TURN_CHARS (then
chat.history_tokens decides how many reach the model). `conversation_id` (an extra body field)
continues a stored conversation instead, whose stored history is used. Answers carry their
citations as [n] in the text and in a `citations` field, and their token usage.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which name the
# dependency aliases made inside router().

import json
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from app.answering.chat import ChatEvent
from app.answering.service import Turn
from app.api.ask import answer_payload, finish, start
from app.api.auth import UserSlots
from app.api.errors import ApiError, error_body, translate
from app.api.services import ApiServices
from app.auth.tokens import TokenUser
from app.errors import AppError

MODEL = "my-documents"
LIBRARY_MODEL = "library:"  # + a team library's name: that library only
CREATED = 1_767_225_600  # 2026-01-01: a fixed "created" for the model list
EARLIER_MESSAGES = 20  # the most recent user/assistant messages before the question that are read
TURN_CHARS = 2000  # each cut to this many characters


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class CompletionRequest(BaseModel):
    """OpenAI's chat completion request; sampling fields are accepted and ignored (the server's own
    settings decide how answers are made)."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(description=f"`{MODEL}`")
    messages: list[ChatMessage] = Field(min_length=1, max_length=500)
    stream: bool = False
    stream_options: StreamOptions | None = None
    conversation_id: str | None = Field(None, max_length=64, description="Continue this stored conversation")


class Model(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]


def _text(message: ChatMessage) -> str:
    if isinstance(message.content, list):
        return "\n".join(p.text or "" for p in message.content if p.type == "text")
    return message.content or ""


def _question(messages: list[ChatMessage]) -> tuple[str, list[Turn]]:
    """The last user message, and the user and assistant turns before it (system, developer and
    tool messages are not conversation: the server's own prompt decides how answers are made)."""
    at = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].role == "user"), None)
    if at is None:
        raise ApiError(400, "invalid_request", "the messages hold no user message to answer")
    earlier = [m for m in messages[:at] if m.role in ("user", "assistant")][-EARLIER_MESSAGES:]
    history = []
    for m in earlier:
        text = _text(m).strip()
        if text:
            cut = text if len(text) <= TURN_CHARS else text[: TURN_CHARS - 1] + "…"
            history.append(Turn(role="user" if m.role == "user" else "assistant", content=cut))
    return _text(messages[at]), history


def _citations(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "number": c["number"],
            "document_id": c["doc_id"],
            "file": c["file"],
            "page": c["page"],
            "page_label": c.get("page_label", ""),
            "library": c.get("library", ""),  # the team library the document is in ("": the user's own)
            "quote": c.get("text", ""),
            "url": f"/api/v1/documents/{c['doc_id']}/pages/{c['page']}",
        }
        for c in payload.get("citations", [])
    ]


def _usage(payload: dict[str, Any]) -> dict[str, int]:
    u = payload.get("usage") or {}
    prompt, completion = int(u.get("prompt_tokens", 0)), int(u.get("completion_tokens", 0))
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def router(services: ApiServices, read: object, ask: object, slots: UserSlots) -> APIRouter:
    r = APIRouter(tags=["openai"])
    Reader = Annotated[TokenUser, Depends(read)]
    Asker = Annotated[TokenUser, Depends(ask)]

    def scopes(user: TokenUser) -> dict[str, str]:
        """model id -> what it searches: the user's own documents, or one of their team libraries
        (read from the database on each request)."""
        found = {MODEL: user.username}
        for lib in services.libraries.libraries(user.username):
            found[LIBRARY_MODEL + lib.name] = lib.tenant
        return found

    def scope_of(user: TokenUser, model_id: str) -> str:
        found = scopes(user)
        if model_id not in found:
            raise ApiError(
                404, "model_not_found", f"no model {model_id[:64]!r}; GET /v1/models lists the ones you can ask"
            )
        return found[model_id]

    @r.get("/models", response_model=ModelList, summary="The models (scopes) you can ask")
    def models(user: Reader) -> ModelList:
        return ModelList(data=[Model(id=m, created=CREATED, owned_by="pdfqa") for m in scopes(user)])

    @r.get("/models/{model_id}", response_model=Model, summary="One model")
    def model(user: Reader, model_id: str) -> Model:
        scope_of(user, model_id)
        return Model(id=model_id, created=CREATED, owned_by="pdfqa")

    @r.post(
        "/chat/completions",
        summary="Answer the last user message from your documents, the messages before it as its conversation",
    )
    async def completions(user: Asker, body: CompletionRequest) -> Any:
        scope = scope_of(user, body.model)
        question, history = _question(body.messages)
        first, events = await start(
            slots,
            user.username,
            lambda: services.chat.stream(
                user.username, question, conversation_id=body.conversation_id, history=history, doc_ids=[scope]
            ),
        )
        release = partial(slots.give_back, user.username)
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        created = int(time.time())
        if not body.stream:
            final = await run_in_threadpool(finish, first, events, release)
            payload = answer_payload(final)
            return JSONResponse(
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": created,
                    "model": body.model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": payload["answer"]},
                            "finish_reason": "stop",
                            "logprobs": None,
                        }
                    ],
                    "usage": _usage(payload),
                    "citations": _citations(payload),
                    "conversation_id": payload.get("conversation_id"),
                    "mode": payload.get("mode"),
                    **({"claims": payload["claims"]} if payload.get("claims") is not None else {}),
                }
            )
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        chunks = _chunks(first, events, completion_id, created, include_usage, release, body.model)
        return StreamingResponse(chunks, media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    return r


def _chunk(
    completion_id: str, created: int, delta: dict[str, Any], finish: str | None, model: str = MODEL, **extra: Any
) -> str:
    data = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        **extra,
    }
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


def _chunks(
    first: ChatEvent | None,
    events: Iterator[ChatEvent],
    completion_id: str,
    created: int,
    include_usage: bool,
    release: Callable[[], None],
    model: str = MODEL,
) -> Iterator[str]:
    """The OpenAI stream: a role chunk, content chunks, a last chunk with finish_reason, the
    citations and usage (and, when asked, OpenAI's usage-only chunk), then `[DONE]`."""
    try:
        yield _chunk(completion_id, created, {"role": "assistant", "content": ""}, None, model)
        event = first
        while event is not None:
            if event.answer is not None:
                payload = answer_payload(event)
                usage = _usage(payload)
                extra: dict[str, Any] = {
                    "citations": _citations(payload),
                    "conversation_id": payload.get("conversation_id"),
                    "usage": usage,
                }
                if payload.get("claims") is not None:
                    extra["claims"] = payload["claims"]
                yield _chunk(completion_id, created, {}, "stop", model, **extra)
                if include_usage:
                    only_usage = {
                        "id": completion_id,
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": model,
                        "choices": [],
                        "usage": usage,
                    }
                    yield f"data: {json.dumps(only_usage)}\n\n"
            elif event.delta:
                yield _chunk(completion_id, created, {"content": event.delta}, None, model)
            event = next(events, None)
        yield "data: [DONE]\n\n"
    except AppError as e:
        api = translate(e)
        yield f"data: {json.dumps(error_body(api.code, api.message, **api.extra))}\n\n"
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()
        release()
