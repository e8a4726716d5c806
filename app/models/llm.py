"""The chat model: llama-index's OpenAI-compatible LLM, with provider errors turned into LLMError.

A user's own API key builds a separate client for that request only; it is never stored on a
shared object, in the environment, or in logs.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.config import LLMSettings
from app.domain import Usage
from app.errors import LLMError

if TYPE_CHECKING:  # the OpenAI SDK takes a second or two to import: only when a model is configured
    from llama_index.core.llms import ChatMessage
    from llama_index.llms.openai_like import OpenAILike

__all__ = ["ChatModel", "StreamResult", "Usage", "describe"]


@dataclass
class StreamResult:
    """Filled in while the stream is consumed."""

    text: str = ""
    usage: Usage = field(default_factory=Usage)


def describe(error: Exception) -> str:
    """A user-facing sentence for a provider error, without the provider's raw payload."""
    import openai

    if isinstance(error, openai.AuthenticationError):
        return "the language model rejected the API key"
    if isinstance(error, openai.RateLimitError):
        return "the language model is rate-limited; please try again shortly"
    if isinstance(error, openai.APITimeoutError):
        return "the language model did not answer in time"
    if isinstance(error, openai.APIConnectionError):
        return "the language model service is unreachable"
    if isinstance(error, openai.APIStatusError):
        return f"the language model service failed (HTTP {error.status_code})"
    return "the language model failed"


class ChatModel:
    def __init__(self, settings: LLMSettings) -> None:
        self._settings = settings
        self.model = settings.model
        self._default = self._build(settings.api_key.get_secret_value() if settings.api_key else None)

    def _build(self, api_key: str | None) -> OpenAILike:
        from llama_index.llms.openai_like import OpenAILike

        s = self._settings
        return OpenAILike(
            model=s.model,
            api_base=s.api_base or "https://api.openai.com/v1",
            api_key=api_key or "none",
            is_chat_model=True,
            context_window=s.context_window,
            max_tokens=s.max_tokens,
            temperature=s.temperature,
            timeout=s.timeout_s,
            max_retries=s.max_retries,
            additional_kwargs={"stream_options": {"include_usage": True}},
        )

    def _for(self, api_key: str | None) -> OpenAILike:
        return self._build(api_key) if api_key else self._default

    def complete(self, messages: Sequence[ChatMessage], api_key: str | None = None) -> tuple[str, Usage]:
        import openai

        llm = self._for(api_key)
        try:
            response = llm.chat(list(messages))
        except openai.OpenAIError as e:
            raise LLMError(describe(e)) from e
        extra = response.additional_kwargs or {}
        usage = Usage(int(extra.get("prompt_tokens", 0)), int(extra.get("completion_tokens", 0)))
        return (response.message.content or "").strip(), usage

    def stream(
        self, messages: Sequence[ChatMessage], result: StreamResult, api_key: str | None = None
    ) -> Generator[str, None, None]:
        """Yield text deltas; `result` holds the full text and the provider-reported usage."""
        import openai

        llm = self._for(api_key)
        try:
            for chunk in llm.stream_chat(list(messages)):
                delta = chunk.delta or ""
                extra = chunk.additional_kwargs or {}
                if extra.get("prompt_tokens") or extra.get("completion_tokens"):
                    result.usage = Usage(int(extra.get("prompt_tokens", 0)), int(extra.get("completion_tokens", 0)))
                if delta:
                    result.text += delta
                    yield delta
        except openai.OpenAIError as e:
            raise LLMError(describe(e)) from e
