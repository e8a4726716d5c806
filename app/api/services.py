"""The services the API calls: the same objects the web app and the CLI use, from the container."""

from __future__ import annotations

from dataclasses import dataclass

from app.answering.chat import ChatService
from app.answering.conversations import ConversationService
from app.auth.libraries import LibraryAccess
from app.auth.tokens import TokenService
from app.container import Container
from app.documents.ingestion import IngestionService
from app.documents.jobs import IngestionQueue
from app.documents.pages import PageRenderer
from app.documents.registry import DocumentRegistry
from app.usage.accounting import UsageRecorder
from app.usage.quotas import QuotaService


@dataclass(frozen=True)
class ApiServices:
    tokens: TokenService
    libraries: LibraryAccess  # the team libraries a token's user may read or change, read per request
    registry: DocumentRegistry
    ingestion: IngestionService
    ingest_queue: IngestionQueue
    pages: PageRenderer
    chat: ChatService
    conversations: ConversationService
    quotas: QuotaService
    usage: UsageRecorder
    max_file_bytes: int
    model_name: str | None  # the LLM behind the answers (None: retrieval only)
    asks_per_user: int  # questions one user may have running at once (server.max_queued_per_user)
    rate_limit_per_minute: int  # requests per token per minute, all instances together (api.rate_limit_per_minute)
    max_body_bytes: int  # largest JSON body (api.max_body_bytes)

    @classmethod
    def from_container(cls, c: Container) -> ApiServices:
        return cls(
            tokens=TokenService(c.db),
            libraries=c.libraries,
            registry=c.registry,
            ingestion=c.ingestion,
            ingest_queue=c.ingest_queue,
            pages=c.pages,
            chat=c.chat,
            conversations=c.conversations,
            quotas=c.quotas,
            usage=c.usage,
            max_file_bytes=int(c.settings.documents.max_file_mb * 1024 * 1024),
            model_name=c.settings.llm.model if c.settings.llm_enabled else None,
            asks_per_user=c.settings.server.max_queued_per_user,
            rate_limit_per_minute=c.settings.api.rate_limit_per_minute,
            max_body_bytes=c.settings.api.max_body_bytes,
        )
