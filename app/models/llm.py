"""The chat model: llama-index's OpenAI-compatible LLM, with provider errors turned into LLMError.

A user's own API key builds a separate client for that request only; it is never stored on a
shared object, in the environment, or in logs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.config import LLMSettings
from app.domain import Usage
from app.errors import LLMError

if TYPE_CHECKING:  # the OpenAI SDK takes a second or two to import: only when a model is configured
    import openai
    from llama_index.core.llms import ChatMessage
    from llama_index.llms.openai_like import OpenAILike

UNREADABLE = "the language model sent an empty or unreadable answer; please try again"


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
        self._default_key = settings.api_key.get_secret_value() if settings.api_key else None
        self._default = self._build(self._default_key)
        self._lock = threading.Lock()
        self._stream_client: openai.OpenAI | None = None

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

    def _client(self, api_key: str | None) -> openai.OpenAI:
        import openai

        s = self._settings
        return openai.OpenAI(
            api_key=api_key or "none",
            base_url=s.api_base or "https://api.openai.com/v1",
            timeout=s.timeout_s,
            max_retries=s.max_retries,
        )

    def _shared_client(self) -> openai.OpenAI:
        with self._lock:
            if self._stream_client is None:
                self._stream_client = self._client(self._default_key)
            return self._stream_client

    def _for(self, api_key: str | None) -> OpenAILike:
        return self._build(api_key) if api_key else self._default

    def complete(self, messages: Sequence[ChatMessage], api_key: str | None = None) -> tuple[str, Usage]:
        import openai

        llm = self._for(api_key)
        try:
            response = llm.chat(list(messages))
        except openai.OpenAIError as e:
            raise LLMError(describe(e)) from e
        except (ValueError, TypeError, AttributeError) as e:  # a 200 whose body is not a completion
            raise LLMError(UNREADABLE) from e
        extra = response.additional_kwargs or {}
        usage = Usage(int(extra.get("prompt_tokens", 0)), int(extra.get("completion_tokens", 0)))
        return (response.message.content or "").strip(), usage

    def stream(
        self, messages: Sequence[ChatMessage], result: StreamResult, api_key: str | None = None
    ) -> Generator[str, None, None]:
        """Yield text deltas; `result` holds the full text and the provider-reported usage.

        A stream that goes on past `llm.max_answer_s`, or far past `llm.max_tokens` (a provider or
        proxy that ignores the limit), is closed — which cancels the request — and reported as an
        LLMError; so is a stream that ends without a word (a body that was not events)."""
        import openai

        s = self._settings
        # The SDK's own stream object, not llama-index's generator wrappers: closing it is what
        # closes the HTTP response, so a stopped answer stops the provider at once. The server's
        # key has one client for the process (its connections are reused); a user's key gets a
        # client for this answer only.
        client = self._client(api_key) if api_key else self._shared_client()
        # No tokenizer on this path: a token is rarely longer than 8 characters, even in code.
        max_chars = s.max_tokens * 8 + 200
        deadline = time.monotonic() + s.max_answer_s
        try:
            wire: list[Any] = [{"role": m.role.value, "content": str(m.content or "")} for m in messages]
            stream = client.chat.completions.create(
                model=s.model,
                messages=wire,
                max_tokens=s.max_tokens,
                temperature=s.temperature,
                stream=True,
                stream_options={"include_usage": True},
            )
            with stream:
                for chunk in stream:
                    if chunk.usage is not None:
                        result.usage = Usage(int(chunk.usage.prompt_tokens), int(chunk.usage.completion_tokens))
                    delta = (chunk.choices[0].delta.content or "") if chunk.choices else ""
                    if delta:
                        result.text += delta
                        yield delta
                    if len(result.text) > max_chars or time.monotonic() > deadline:
                        raise LLMError(
                            "the language model did not stop (its answer went past "
                            f"{s.max_tokens} tokens or {s.max_answer_s:g} s) and was cut off"
                        )
        except openai.OpenAIError as e:
            raise LLMError(describe(e)) from e
        except (ValueError, TypeError, AttributeError) as e:  # events that are not completion chunks
            raise LLMError(UNREADABLE) from e
        finally:
            if api_key:
                client.close()
        if not result.text:
            raise LLMError(UNREADABLE)
