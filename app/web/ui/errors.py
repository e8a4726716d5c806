"""Domain errors turned into what the browser shows (the UI's one edge). Each handler is wrapped in
`ui_errors` (or `ui_errors_stream`), which binds the request id to its log lines and sorts what went
wrong into two kinds:

- a refusal, the user's doing (an empty question, a reached limit, a short password, a document
  that is not theirs, any gr.Error a handler raises itself): in a browser, a warning toast titled
  "Not possible" in the user's language, and every output of the event left as it was (gr.skip()),
  so the chat, the sources and the typed question stay; a script (gradio_client, curl) gets the
  message as the event's error, as before. Never a traceback on the server.
- a failure, something broke (a service down, an unexpected exception): a red error with a
  reference the user can quote, logged once with that reference and its traceback.

Handlers may call each other (a delete that returns the refreshed table): only the outermost wrapper
decides; an inner one raises the error for it (and for a caller that catches gr.Error)."""

from __future__ import annotations

import contextvars
import functools
import html
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import gradio as gr
from loguru import logger

from app.errors import (
    AppError,
    AuthError,
    EmptyQuestion,
    IngestError,
    InvalidQuestion,
    NotFound,
    NotSignedIn,
    QuestionTooLong,
    QuotaExceeded,
)
from app.web.ui.i18n import language, msg, quota_message, service_text
from app.web.uploads import UploadRefused

F = TypeVar("F", bound=Callable[..., Any])

# The user's doing: shown as a refusal. Everything else (ServiceUnavailable, RenderError, ConfigError,
# any other exception) is a failure.
REFUSALS: tuple[type[Exception], ...] = (
    InvalidQuestion,
    QuotaExceeded,
    NotFound,
    AuthError,
    UploadRefused,
    IngestError,
)
# How long a toast stays (seconds): long enough to read, short enough not to pile up over the page.
INFO_S = 4.0
REFUSAL_S = 8.0
FAILURE_S = 15.0  # it carries a reference the user may want to copy

_handling: contextvars.ContextVar[bool] = contextvars.ContextVar("ui_handling", default=False)


class Failure(gr.Error):
    """Something broke that is not the user's doing; already logged with its reference."""


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


def from_browser(request: gr.Request | None) -> bool:
    """The event came from the page in a browser, not from a script: a browser's POST carries its
    page's origin (the HTTP edge refuses a foreign one) and, over HTTPS or on localhost, fetch
    metadata; gradio_client and curl send neither. Only decides how a refusal is shown."""
    headers = getattr(request, "headers", None) or {}
    return bool(headers.get("origin") or headers.get("sec-fetch-mode"))


def titled(title: str, text: str) -> str:
    """A toast's text with its title on top, in the user's language. Gradio heads every toast with its
    type in English ("Warning", "Info", "Error") and ignores a title: the page's CSS hides that word
    (assets.py), so the title travels in the message (which a toast shows as HTML)."""
    return f"<strong>{html.escape(title)}</strong><br>{text}"


def info(text: str, lang: str) -> None:
    """A short confirmation toast ("Deleted x."), titled in the user's language."""
    gr.Info(titled(msg("info_title", lang), text), duration=INFO_S)


def warn(text: str, lang: str) -> None:
    """A warning toast about part of an action (one file of several refused), in the user's language."""
    gr.Warning(titled(msg("refused_title", lang), text), duration=REFUSAL_S)


def refused(text: str, lang: str, title: str | None = None) -> gr.Error:
    """A refusal a handler raises itself (already worded for the user): see the module docstring."""
    return gr.Error(text, title=title or msg("refused_title", lang), duration=REFUSAL_S, print_exception=False)


def to_gr_error(e: Exception, request: gr.Request | None) -> gr.Error:
    """The message a user sees for `e`: "sign in" only when nobody (or someone else) is signed in;
    any other refusal with its own reason; a failure with a reference, logged here."""
    lang = language(request)
    if isinstance(e, NotSignedIn):
        return refused(msg("not_signed_in", lang), lang)
    if isinstance(e, EmptyQuestion):
        return refused(msg("empty_question", lang), lang)
    if isinstance(e, QuestionTooLong):
        return refused(msg("question_too_long", lang, n=e.length, max=e.limit), lang)
    if isinstance(e, QuotaExceeded):
        return refused(quota_message(e, lang), lang, title=msg("quota_title", lang))
    if isinstance(e, REFUSALS):
        return refused(service_text(str(e), lang), lang)
    ref = request_id(request)
    ref = ref if ref != "-" else uuid.uuid4().hex[:8]
    logger.opt(exception=e).error("ui handler failed ref={} error={}", ref, type(e).__name__)
    if isinstance(e, AppError):  # its message says what failed (safe to show), e.g. the model's HTTP 500
        text = msg("service_failed", lang, reason=str(e).rstrip(" .。"), ref=ref)
    else:
        text = msg("internal", lang, ref=ref)
    # Logged above, once, with its traceback: Gradio need not print it again.
    return Failure(text, title=msg("error_title", lang), duration=FAILURE_S, print_exception=False)


def _shown(e: Exception, request: gr.Request | None) -> Any:
    """The outermost handler's answer to `e`: a refusal becomes a warning toast with every output
    unchanged (browser) or the event's error (script); a failure is raised as the red error."""
    error = e if isinstance(e, gr.Error) else to_gr_error(e, request)
    if isinstance(error, Failure):
        if from_browser(request):
            error.message = titled(error.title, error.message)
        raise error
    lang = language(request)
    if error.title == "Error":  # a handler's own gr.Error: the refusal's title, in the user's language
        error.title = msg("refused_title", lang)
    error.print_exception = False  # the user's doing: nothing for the server log to show
    if not from_browser(request):
        raise error
    gr.Warning(titled(error.title, error.message), duration=REFUSAL_S)
    return gr.skip()


def ui_errors(fn: F) -> F:
    """Refusals shown as a warning with nothing else changed, failures as an error with a
    reference (see the module docstring)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        request = find_request(args, kwargs)
        outermost = not _handling.get()
        token = _handling.set(True)
        try:
            with logger.contextualize(request_id=request_id(request), event=fn.__name__):
                try:
                    return fn(*args, **kwargs)
                except Exception as e:
                    if outermost:
                        return _shown(e, request)
                    if isinstance(e, gr.Error):
                        raise
                    raise to_gr_error(e, request) from e
        finally:
            _handling.reset(token)

    return wrapper  # type: ignore[return-value]


def ui_errors_stream(fn: F) -> F:
    """`ui_errors` for a handler that streams (a generator): a refusal leaves what is shown as it
    was (also after some steps); a failure ends the stream with the error."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        request = find_request(args, kwargs)
        steps = fn(*args, **kwargs)
        try:
            ended = False
            while not ended:
                # Gradio may run each step in another thread's context: bind the id per step,
                # never across a yield.
                token = _handling.set(True)
                try:
                    with logger.contextualize(request_id=request_id(request), event=fn.__name__):
                        try:
                            item = next(steps)
                        except StopIteration:
                            return
                        except Exception as e:
                            item, ended = _shown(e, request), True  # nothing changes; the stream ends
                finally:
                    _handling.reset(token)
                yield item
        finally:
            steps.close()  # a client that went away ends the inner stream now (its usage is recorded)

    return wrapper  # type: ignore[return-value]
