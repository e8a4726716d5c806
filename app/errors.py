"""Domain errors. Each carries a message that is safe to show to a user (no paths to secrets,
no stack traces); the edges (CLI, HTTP, UI) translate them, everything else lets them propagate."""

from __future__ import annotations

from datetime import datetime


class AppError(Exception):
    """Base class: `str(error)` is a user-facing, one-line explanation."""


class ConfigError(AppError):
    """The configuration is invalid or incomplete."""


class IngestError(AppError):
    """One file could not be ingested; `reason` is a short machine-friendly code."""

    def __init__(self, message: str, reason: str = "failed") -> None:
        super().__init__(message)
        self.reason = reason


class StoreLockedError(AppError):
    """The embedded vector store is already opened by another process."""


class ServiceUnavailable(AppError):
    """A backing service (Qdrant, the LLM, the embedding API, the database) failed or timed out."""


class LLMError(ServiceUnavailable):
    """The language model could not produce an answer."""


class RenderError(AppError):
    """A page could not be shown (the renderer hit its memory or time limit, or crashed)."""


class NotFound(AppError):
    """The object does not exist or does not belong to the caller (same message on purpose)."""


class InvalidQuestion(AppError):
    """The question cannot be asked as it is (too long, empty)."""


class QuotaExceeded(AppError):
    """The user has used up an allowance: `limit` names it (a `quotas:` key), `value` is its size,
    `resets_at` (UTC, None for limits that never reset) when it frees up, `timezone` the reset zone."""

    def __init__(
        self,
        message: str,
        limit: str = "",
        value: float | None = None,
        resets_at: datetime | None = None,
        timezone: str = "UTC",
    ) -> None:
        super().__init__(message)
        self.limit = limit
        self.value = value
        self.resets_at = resets_at
        self.timezone = timezone


class AuthError(AppError):
    """Login or user-management failure."""


class NotSignedIn(AuthError):
    """Nobody is signed in, or the session belongs to someone else: the one refusal the UI answers
    with "please sign in" (any other AuthError shows its own reason)."""


class EmptyQuestion(InvalidQuestion):
    """The question is empty or only spaces."""


class QuestionTooLong(InvalidQuestion):
    """The question has `length` characters, more than the `limit` accepted."""

    def __init__(self, message: str, length: int, limit: int) -> None:
        super().__init__(message)
        self.length = length
        self.limit = limit
