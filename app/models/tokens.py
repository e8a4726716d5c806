"""Offline tiktoken: llama-index bundles the cl100k_base file; point tiktoken at it."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import tiktoken


@lru_cache(maxsize=1)
def cl100k() -> tiktoken.Encoding:
    import llama_index.core

    bundled = Path(llama_index.core.__file__).parent / "_static" / "tiktoken_cache"
    if "TIKTOKEN_CACHE_DIR" not in os.environ and bundled.is_dir():
        os.environ["TIKTOKEN_CACHE_DIR"] = str(bundled)
    return tiktoken.get_encoding("cl100k_base")
