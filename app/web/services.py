"""The services the web UI may call, and nothing else."""

from __future__ import annotations

from dataclasses import dataclass

from app.admin.console import AdminConsole
from app.admin.groups_admin import GroupsAdmin
from app.admin.own_account import OwnAccount
from app.answering.chat import ChatService
from app.answering.conversations import ConversationService
from app.answering.feedback import FeedbackService
from app.auth.groups import GroupService
from app.auth.tokens import TokenService
from app.container import Container
from app.documents.ingestion import IngestionService
from app.documents.jobs import IngestionQueue
from app.documents.library_docs import LibraryDocuments
from app.documents.pages import PageRenderer
from app.documents.registry import DocumentRegistry
from app.usage.accounting import UsageRecorder
from app.usage.report import UsageReport


@dataclass(frozen=True)
class WebServices:
    conversations: ConversationService
    registry: DocumentRegistry
    ingestion: IngestionService
    ingest_queue: IngestionQueue
    pages: PageRenderer
    usage: UsageRecorder
    chat: ChatService
    usage_report: UsageReport
    admin: AdminConsole
    feedback: FeedbackService
    tokens: TokenService | None = None  # personal access tokens (Settings); None: no token section
    groups: GroupsAdmin | None = None  # the Admin tab's Groups sub-tab; None: not shown
    own_account: OwnAccount | None = None  # Settings > Delete my account; None: not offered
    libraries: LibraryDocuments | None = None  # team libraries on the Documents page; None: not shown

    @classmethod
    def from_container(cls, c: Container) -> WebServices:
        return cls(
            conversations=c.conversations,
            registry=c.registry,
            ingestion=c.ingestion,
            ingest_queue=c.ingest_queue,
            pages=c.pages,
            usage=c.usage,
            chat=c.chat,
            usage_report=c.usage_report,
            admin=c.admin_console,
            feedback=c.feedback,
            tokens=TokenService(c.db),
            groups=GroupsAdmin(c.admin_console, GroupService(c.db), c.libraries, c.usage_report),
            own_account=c.own_account if c.settings.auth.mode != "hf_oauth" else None,
            libraries=c.library_docs if c.settings.auth.mode != "hf_oauth" else None,
        )
