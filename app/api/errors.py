"""Errors of the API as JSON, `{"error": {"code", "message", ...}}`, never a traceback. Domain errors
(app/errors.py) are translated here, at the edge; anything else is logged with its traceback and
answered 500 with the request id as its reference."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from loguru import logger
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.auth.tokens import TokenRefused
from app.errors import (
    AppError,
    AuthError,
    ConfigError,
    IngestError,
    InvalidQuestion,
    NotFound,
    QuotaExceeded,
    RenderError,
    ServiceUnavailable,
)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    411: "length_required",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
}


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")  # e.g. limit, resets_at of a quota; scope; retry_after_s

    code: str
    message: str
    type: str
    request_id: str | None = None


class ErrorResponse(BaseModel):
    """Every refusal and failure of the API."""

    error: ErrorDetail


# The answers any route may give besides its own (in the OpenAPI schema).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in (
        (401, "No token, or not a live one"),
        (403, "The token lacks the scope"),
        (404, "Not found (or not yours)"),
        (413, "Body too large"),
        (422, "Invalid request"),
        (429, "Quota or rate limit reached"),
        (503, "A backing service is unavailable"),
    )
}


class ApiError(Exception):
    """An answer of the API's own: status, code and a message safe to show; `extra` joins the error."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra


def request_id(request: Request) -> str | None:
    """The id app/web/tracing.py gave this request (also in the X-Request-ID response header)."""
    return request.headers.get("x-request-id")


def error_body(code: str, message: str, request: Request | None = None, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "type": code}  # `type`: OpenAI clients read it
    error.update({k: v for k, v in extra.items() if v is not None})
    if request is not None and request_id(request):
        error["request_id"] = request_id(request)
    return {"error": error}


def error_response(
    request: Request, status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse(error_body(code, message, request, **extra), status_code=status, headers=headers)


def translate(e: BaseException) -> ApiError:
    """A domain error as the API answers it."""
    if isinstance(e, ApiError):
        return e
    if isinstance(e, TokenRefused):
        return ApiError(401, "unauthorized", str(e), {"WWW-Authenticate": 'Bearer realm="pdfqa"'})
    if isinstance(e, QuotaExceeded):
        headers, resets = {}, None
        if e.resets_at is not None:
            at = e.resets_at.astimezone(UTC) if e.resets_at.tzinfo else e.resets_at.replace(tzinfo=UTC)
            resets = at.strftime("%Y-%m-%dT%H:%M:%SZ")
            headers["Retry-After"] = str(max(1, int((at - datetime.now(UTC)).total_seconds())))
        return ApiError(
            429,
            "quota_exceeded",
            str(e),
            headers,
            limit=e.limit,
            limit_value=e.value,
            resets_at=resets,
            timezone=e.timezone,
        )
    if isinstance(e, NotFound):
        return ApiError(404, "not_found", str(e))
    if isinstance(e, InvalidQuestion):
        return ApiError(400, "invalid_question", str(e))
    if isinstance(e, IngestError):
        return ApiError(400, "ingest_failed", str(e), reason=e.reason)
    if isinstance(e, RenderError):
        return ApiError(422, "render_failed", str(e))
    if isinstance(e, AuthError):
        return ApiError(403, "forbidden", str(e))
    if isinstance(e, ServiceUnavailable):
        return ApiError(503, "unavailable", str(e), {"Retry-After": "5"})
    if isinstance(e, ConfigError):
        return ApiError(500, "misconfigured", str(e))
    if isinstance(e, AppError):
        return ApiError(400, "refused", str(e))
    return ApiError(500, "internal_error", "unexpected failure")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, e: ApiError) -> JSONResponse:
        return error_response(request, e.status, e.code, e.message, e.headers, **e.extra)

    @app.exception_handler(AppError)
    async def app_error(request: Request, e: AppError) -> JSONResponse:
        api = translate(e)
        if api.status >= 500:
            logger.opt(exception=e).warning("api request failed code={}", api.code)
        return error_response(request, api.status, api.code, api.message, api.headers, **api.extra)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', '')}" for err in e.errors()[:5]]
        return error_response(request, 422, "invalid_request", "; ".join(problems)[:1000] or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, e: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(e.status_code, "error")
        message = e.detail if isinstance(e.detail, str) else code
        return error_response(request, e.status_code, code, message, getattr(e, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, e: Exception) -> JSONResponse:
        logger.opt(exception=e).error("api request failed unexpectedly path={}", request.url.path[:200])
        rid = request_id(request)
        message = f"unexpected failure; reference {rid}" if rid else "unexpected failure"
        return error_response(request, 500, "internal_error", message)
