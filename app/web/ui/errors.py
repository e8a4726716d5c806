"""Domain errors turned into what the browser shows (the UI's one edge): each handler is wrapped in
`ui_errors` (or `ui_errors_stream`), which binds the request id to its log lines and turns an
AppError into a readable gr.Error, in the browser's language where there is a translation.
Anything else is logged with a reference the user can quote."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import gradio as gr
from loguru import logger

from app.errors import AppError, EmptyQuestion, NotSignedIn, QuestionTooLong, QuotaExceeded
from app.web.ui.i18n import language, msg, quota_message

F = TypeVar("F", bound=Callable[..., Any])


def find_request(args: tuple[Any, ...], kwargs: dict[str, Any]) -> gr.Request | None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, gr.Request):
            return value
    return None


def client_host(request: gr.Request | None) -> str | None:
    """The caller's address as the audit log records it."""
    return getattr(getattr(request, "client", None), "host", None)


def request_id(request: gr.Request | None) -> str:
    """The id the HTTP edge gave the request that started this event (app/web/tracing.py)."""
    headers = getattr(request, "headers", None) or {}
    return str(headers.get("x-request-id") or "-")


def to_gr_error(e: Exception, request: gr.Request | None) -> gr.Error:
    """The message a user sees for `e`: "sign in" only when nobody (or someone else) is signed in;
    any other refusal with its own reason."""
    lang = language(request)
    if isinstance(e, NotSignedIn):
        return gr.Error(msg("not_signed_in", lang))
    if isinstance(e, EmptyQuestion):
        return gr.Error(msg("empty_question", lang))
    if isinstance(e, QuestionTooLong):
        return gr.Error(msg("question_too_long", lang, n=e.length, max=e.limit))
    if isinstance(e, QuotaExceeded):
        return gr.Error(quota_message(e, lang), title=msg("quota_title", lang), print_exception=False)
    if isinstance(e, AppError):
        return gr.Error(str(e))
    ref = request_id(request)
    ref = ref if ref != "-" else uuid.uuid4().hex[:8]
    logger.opt(exception=e).error("ui handler failed ref={}", ref)
    return gr.Error(msg("internal", lang, ref=ref))


def ui_errors(fn: F) -> F:
    """Domain errors become a readable gr.Error; anything else is logged with a reference."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        request = find_request(args, kwargs)
        with logger.contextualize(request_id=request_id(request), event=fn.__name__):
            try:
                return fn(*args, **kwargs)
            except gr.Error:
                raise
            except Exception as e:
                raise to_gr_error(e, request) from e

    return wrapper  # type: ignore[return-value]


def ui_errors_stream(fn: F) -> F:
    """`ui_errors` for a handler that streams (a generator)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        request = find_request(args, kwargs)
        steps = fn(*args, **kwargs)
        try:
            while True:
                # Gradio may run each step in another thread's context: bind the id per step,
                # never across a yield.
                with logger.contextualize(request_id=request_id(request), event=fn.__name__):
                    try:
                        item = next(steps)
                    except StopIteration:
                        return
                    except gr.Error:
                        raise
                    except Exception as e:
                        raise to_gr_error(e, request) from e
                yield item
        finally:
            steps.close()  # a client that went away ends the inner stream now (its usage is recorded)

    return wrapper  # type: ignore[return-value]
