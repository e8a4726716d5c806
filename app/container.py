"""Composition root: builds every service from Settings, once, and closes what it opened.

Services are created on first use so that, e.g., `users list` never loads the embedding model.
"""

from __future__ import annotations

import json
import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loguru import logger

from app.auth.users import UserService
from app.config import Settings
from app.storage.db import Database
from app.storage.files import FileStore, open_file_store

if TYPE_CHECKING:  # heavy modules (LlamaIndex, torch) load only when a service is first used
    from app.admin.accounts import AccountService
    from app.admin.backup import BackupService
    from app.admin.console import AdminConsole
    from app.admin.data_export import DataExport
    from app.admin.own_account import OwnAccount
    from app.admin.recent_errors import RecentErrors
    from app.admin.reindex import ReindexService
    from app.answering.cache import AnswerCache
    from app.answering.chat import ChatService
    from app.answering.claims_check import AnswerClaims
    from app.answering.conversations import ConversationService
    from app.answering.feedback import FeedbackService
    from app.answering.retention import ConversationRetention
    from app.answering.retrieval import Reranker, Retriever
    from app.answering.service import AnswerService
    from app.auth.libraries import LibraryAccess
    from app.auth.sessions import SessionStore
    from app.auth.throttle import LoginThrottle
    from app.documents.ingestion import IngestionService
    from app.documents.jobs import IngestionQueue
    from app.documents.library_docs import LibraryDocuments
    from app.documents.pages import PageRenderer
    from app.documents.registry import DocumentRegistry
    from app.models.embeddings import EmbeddingModel
    from app.models.llm import ChatModel
    from app.models.onnx_export import Precision
    from app.storage.index_state import IndexStateStore
    from app.storage.vector_store import StoreClient, VectorStore
    from app.usage.accounting import UsageRecorder
    from app.usage.pricing import Pricing
    from app.usage.quotas import QuotaService
    from app.usage.report import UsageReport


class Container:
    """Use as `with Container(settings) as c:`; leaving the block closes what was opened."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        _private(settings.data_dir)

    def __enter__(self) -> Container:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @cached_property
    def db(self) -> Database:
        # Every request thread may hold a connection at once, plus the ingestion workers and the edge.
        db = Database(
            self.settings.database_url,
            pool_size=self.settings.server.concurrency + self.settings.server.ingest_workers + 4,
            timeout_s=self.settings.database.timeout_s,
        )
        db.create_all()
        return db

    @cached_property
    def registry(self) -> DocumentRegistry:
        from app.documents.registry import DocumentRegistry

        return DocumentRegistry(self.db)

    @cached_property
    def files(self) -> FileStore:
        return open_file_store(self.settings)

    @cached_property
    def usage(self) -> UsageRecorder:
        from app.usage.accounting import UsageRecorder

        return UsageRecorder(self.db, self.pricing, self.settings.quotas.reset_timezone)

    @cached_property
    def pricing(self) -> Pricing:
        from app.usage.pricing import Pricing

        return Pricing(self.settings.pricing)

    @cached_property
    def usage_report(self) -> UsageReport:
        from app.usage.report import UsageReport

        return UsageReport(self.usage, self.quotas, self.users, kept=self.registry.kept_totals)

    @cached_property
    def quotas(self) -> QuotaService:
        from app.usage.quotas import QuotaService

        llm = self.settings.llm
        # An answer streams for at most max_answer_s, after its condensing call and retries.
        hold_ttl = llm.max_answer_s + (llm.max_retries + 2) * llm.timeout_s + 10
        return QuotaService(self.db, self.settings.quotas, hold_ttl_s=hold_ttl)

    @cached_property
    def users(self) -> UserService:
        return UserService(self.db)

    @cached_property
    def accounts(self) -> AccountService:
        from app.admin.accounts import AccountService

        return AccountService(self.db, self.users, self.registry, self.files, lambda: self.ingestion)

    @cached_property
    def data_export(self) -> DataExport:
        """A user's own data as one archive (Settings and `users export`)."""
        from app.admin.data_export import DataExport

        return DataExport(self.db, self.users, self.registry, self.files)

    @cached_property
    def own_account(self) -> OwnAccount:
        """A user deleting their own account (Settings), the way `users remove` does."""
        from app.admin.own_account import OwnAccount

        return OwnAccount(self.users, self.accounts, self.login_throttle, self.sessions)

    @cached_property
    def retention(self) -> ConversationRetention:
        """retention.conversations_days: old conversations deleted daily, by one instance."""
        from app.answering.retention import ConversationRetention

        return ConversationRetention(self.db, self.settings.retention.conversations_days)

    @cached_property
    def backups(self) -> BackupService:
        from fsspec.utils import get_protocol

        from app.admin.backup import BackupService
        from app.storage.files import store_options

        s = self.settings
        return BackupService(
            self.db,
            self.files,
            self.vector_store,
            s.embeddings.model,
            s.qdrant.collection,
            url_options=lambda url: store_options(s, get_protocol(url)),
        )

    @cached_property
    def recent_errors(self) -> RecentErrors:
        from app.admin.recent_errors import RecentErrors

        return RecentErrors()

    @cached_property
    def admin_console(self) -> AdminConsole:
        from app.admin.console import AdminConsole
        from app.documents.ingestion import check_ocr

        checks = {"database": self.db.ping, "vector store": self.vector_store.ping, "file store": self.files.ping}
        checks["OCR"] = lambda: check_ocr(self.settings.documents)
        return AdminConsole(
            self.settings,
            self.users,
            self.accounts,
            self.registry,
            self.index_states,
            checks,
            self.recent_errors,
            self.settings.data_dir / "logs" / "audit.log",
        )

    @cached_property
    def sessions(self) -> SessionStore:
        from app.auth.sessions import SessionStore

        return SessionStore(self.db, self.settings.auth.session_idle_minutes, self.settings.auth.session_max_hours)

    @cached_property
    def login_throttle(self) -> LoginThrottle:
        from app.auth.throttle import LoginThrottle

        return LoginThrottle(self.db, self.settings.auth)

    @cached_property
    def embedder(self) -> EmbeddingModel:
        """The model that embeds questions and documents for the index in use (`backend: auto` at
        the precision that index was built with)."""
        from app.models.embeddings import build_embedding_model

        model = build_embedding_model(self.settings.embeddings, self._index_precision())
        model.cache_queries(self.settings.cache.embedding_entries)
        if self.settings.embeddings.provider == "openai":  # a paid API: account its tokens per user
            from app.domain import Usage

            def meter(owner: str, tokens: int) -> None:
                used = Usage(tokens, 0)
                self.usage.record(owner, "embed", model.name, used)
                self.quotas.add(owner, cost_micro=self.pricing.cost_micro(model.name, used))

            model.meter = meter
        return model

    @cached_property
    def vector_client(self) -> StoreClient:
        """The Qdrant server, or the embedded store (locked to this process while open)."""
        from app.storage.vector_factory import open_client

        q = self.settings.qdrant
        key = q.api_key.get_secret_value() if q.api_key else None
        return open_client(q.url, key, self.settings.qdrant_path, q.timeout_s, q.embedded_engine)

    @cached_property
    def index_states(self) -> IndexStateStore:
        from app.storage.index_state import IndexStateStore

        return IndexStateStore(self.db)

    def _index_precision(self) -> Precision:
        """What `embeddings.backend: auto` runs a local model at: the precision the index in use was
        built with, so an upgrade re-embeds nothing (fp32 for an index made before int8 was auto's
        choice), and int8 for a new index."""
        e, alias = self.settings.embeddings, self.settings.qdrant.collection
        if e.provider != "local" or e.backend != "auto":
            return "int8"  # not read: the backend is explicit, or not a local model
        from app.storage.index_state import built_precision
        from app.storage.vector_factory import collection_names

        state = self.index_states.get(alias)
        if state is not None:
            return built_precision(state[1])
        # A collection an earlier version made under the alias's own name (no state yet) is fp32.
        return "fp32" if alias in collection_names(self.vector_client) else "int8"

    def index_fingerprint(self, embedder: EmbeddingModel | None = None) -> dict[str, Any]:
        """What the search index is to be built with: the current settings, and the backend the
        embedder (the app's own unless given) makes its vectors with."""
        from app.models.sparse import TOKENIZER_VERSION
        from app.storage.index_state import fingerprint

        return fingerprint(self.settings, TOKENIZER_VERSION, (embedder or self.embedder).backend)

    @cached_property
    def vector_store(self) -> VectorStore:
        from app.documents.ingestion import check_chunk_size
        from app.storage.vector_factory import open_index

        check_chunk_size(self.settings.documents, self.embedder)  # a plain config error comes first
        q = self.settings.qdrant
        client = self.vector_client
        try:
            return open_index(
                client, q.collection, self.embedder.dim, bool(q.url), self.index_states, self.index_fingerprint()
            )
        except Exception:
            # Refused (settings changed, say): let the folder go, as if it had never been opened.
            del self.vector_client
            client.close()
            raise

    @cached_property
    def reindexer(self) -> ReindexService:
        """`reindex`: a new index beside the one in use, built with the current settings (`backend:
        auto` builds it with int8, as a new index). It never opens `vector_store`, which refuses an
        index built with other settings."""
        from app.admin.reindex import ReindexService
        from app.documents.ingestion import IngestionService
        from app.models.embeddings import build_embedding_model

        # The app's own model, unless it runs an fp32 index on auto: then an int8 one for the new index.
        new_index = self._index_precision() == "int8"
        embedder = self.embedder if new_index else build_embedding_model(self.settings.embeddings, "int8")

        def make_ingestion(store: VectorStore) -> IngestionService:
            return IngestionService(self.settings.documents, self.registry, self.files, store, embedder)

        q = self.settings.qdrant
        return ReindexService(
            self.db,
            self.vector_client,
            q.collection,
            bool(q.url),
            self.registry,
            self.files,
            make_ingestion,
            embedder.dim,
            self.index_fingerprint(embedder),
        )

    @cached_property
    def ingestion(self) -> IngestionService:
        from app.documents.ingestion import IngestionService

        return IngestionService(
            self.settings.documents,
            self.registry,
            self.files,
            self.vector_store,
            self.embedder,
            self.quotas,
            lease_s=self.settings.server.ingest_lease_s,
        )

    @cached_property
    def reranker(self) -> Reranker | None:
        if self.settings.retrieval.rerank.provider == "off":
            return None
        from app.answering.rerank import build_reranker

        return build_reranker(self.settings.retrieval.rerank)

    @cached_property
    def retriever(self) -> Retriever:
        from app.answering.retrieval import Retriever

        return Retriever(self.vector_store, self.embedder, self.registry, self.settings.retrieval, self.reranker)

    @cached_property
    def chat_model(self) -> ChatModel | None:
        from app.models.llm import ChatModel

        return ChatModel(self.settings.llm) if self.settings.llm_enabled else None

    @cached_property
    def answers(self) -> AnswerService:
        from app.answering.service import AnswerService

        llm = self.settings.llm
        return AnswerService(
            self.retriever, self.chat_model, self.settings.chat, self.usage, llm.context_window - llm.max_tokens
        )

    @cached_property
    def answer_cache(self) -> AnswerCache | None:
        if self.settings.cache.answer_ttl_s <= 0:
            return None
        from app.answering.cache import AnswerCache

        s = self.settings
        # Everything that shapes an answer; a change starts a fresh cache.
        tag = json.dumps(
            [
                s.llm.model,
                s.llm.api_base,
                s.llm.temperature,
                s.llm.max_tokens,
                s.retrieval.model_dump(),
                s.embeddings.model,
                s.chat.model_dump(),
                self.chat_model is not None,
            ],
            sort_keys=True,
            default=str,
        )
        return AnswerCache(self.db, self.registry, s.cache.answer_ttl_s, tag)

    @cached_property
    def chat(self) -> ChatService:
        """The one question flow used by the web UI and the CLI."""
        from app.answering.chat import ChatService, TokenEstimate

        s = self.settings
        estimate = TokenEstimate(
            passages_tokens=s.retrieval.top_k * s.documents.chunk_size * 2,
            max_tokens=s.llm.max_tokens,
            context_budget=s.llm.context_window - s.llm.max_tokens,
        )
        return ChatService(
            self.answers,
            self.conversations,
            self.quotas,
            self.pricing,
            estimate,
            self.answer_cache,
            max_question_chars=self.settings.chat.max_question_chars,
            claims=self.answer_claims,
            libraries=self.libraries,
        )

    @cached_property
    def library_docs(self) -> LibraryDocuments:
        """Team libraries' documents for their members (web, CLI, API)."""
        from app.documents.library_docs import LibraryDocuments

        return LibraryDocuments(self.libraries, self.registry, self.ingestion, self.ingest_queue)

    @cached_property
    def libraries(self) -> LibraryAccess:
        """Who may read and change each team library, read from the database at every call."""
        from app.auth.libraries import LibraryAccess

        return LibraryAccess(self.db)

    @cached_property
    def answer_claims(self) -> AnswerClaims | None:
        """The claim check of each answer (chat.claim_check), with the chat model as judge when
        chat.claim_judge is on."""
        if not self.settings.chat.claim_check:
            return None
        from app.answering.claims_check import AnswerClaims

        judge = self.chat_model if self.settings.chat.claim_judge else None
        # the embedding model loads when the first answer is checked, not when the chat is built
        return AnswerClaims(
            lambda texts: self.claim_embedder.embed_documents(texts),
            judge,
            self.usage,
            stored_vectors=self._claims_embed_like_index,  # then the passages' stored vectors are used
        )

    @property
    def _claims_embed_like_index(self) -> bool:
        from app.config_sections import PACKAGED_MODEL

        e = self.settings.embeddings
        return e.provider == "local" and e.model == PACKAGED_MODEL and not e.query_prefix and not e.document_prefix

    @cached_property
    def claim_embedder(self) -> EmbeddingModel:
        """The model the claim check's cut-offs were chosen with (the packaged all-MiniLM-L6-v2): the
        app's own when it is that model, else that model loaded beside it (an embedding API would
        cost a call per answer and score on another scale)."""
        from app.config_sections import EmbeddingSettings
        from app.models.embeddings import build_embedding_model

        e = self.settings.embeddings
        if self._claims_embed_like_index:
            return self.embedder
        # fp32: the cut-offs were chosen at int8 and decide every tune sentence the same at fp32
        # (docs/retrieval-quality.md, "Claim checks"); the app's own model runs at its index's precision.
        return build_embedding_model(EmbeddingSettings(threads=e.threads, onnx_cache_dir=e.onnx_cache_dir), "fp32")

    @cached_property
    def feedback(self) -> FeedbackService:
        from app.answering.feedback import FeedbackService

        model = self.chat_model.model if self.chat_model is not None else None
        return FeedbackService(self.db, model, lambda user: self.admin_console.is_admin(user))

    @cached_property
    def conversations(self) -> ConversationService:
        from app.answering.conversations import ConversationService

        return ConversationService(self.db)

    @cached_property
    def pages(self) -> PageRenderer:
        from app.documents.pages import PageCache, PageRenderer
        from app.documents.render_pool import RenderPool

        d = self.settings.documents
        pool = RenderPool(d.render_workers, d.parse_memory_mb, d.parse_timeout_s)
        return PageRenderer(self.registry, self.files, pool, PageCache(int(d.render_cache_mb * 1024 * 1024)))

    @cached_property
    def ingest_queue(self) -> IngestionQueue:
        from app.documents.jobs import IngestionQueue

        server = self.settings.server
        return IngestionQueue(
            self.db,
            self.ingestion,
            self.registry,
            self.files,
            workers=server.ingest_workers,
            lease_s=server.ingest_lease_s,
            nice=server.ingest_nice,
        )

    def close(self) -> None:
        if "retention" in self.__dict__:
            self.retention.stop()
        reranker = self.__dict__.get("reranker")
        if reranker is not None and hasattr(reranker, "close"):
            reranker.close()
        if "ingest_queue" in self.__dict__:
            self.ingest_queue.close()
        if "pages" in self.__dict__:
            self.pages.close()
        if "vector_client" in self.__dict__:
            self.vector_client.close()
        if "db" in self.__dict__:
            self.db.close()


def _private(folder: Path) -> None:
    """Data dirs made by older versions (or another umask) were world-readable: close them."""
    try:
        if folder.stat().st_uid == os.getuid() and folder.stat().st_mode & 0o077:
            folder.chmod(0o700)
    except OSError as e:  # a mounted volume may refuse; the files inside are still created 0600
        logger.warning("cannot restrict the data dir's permissions path={} error={}", folder, type(e).__name__)
