"""Everything one person owns, as one zip archive: their account (groups, access tokens without
their secrets, limits), the documents list and each original, their conversations with messages and
citations (JSON, and one readable Markdown file each), their feedback and their usage.

One service for every door: Settings > "Download my data" (app/web/export_route.py) and
`users export NAME DEST`. The archive is written to a file, entry by entry: originals are copied from
the file store in blocks (an object store's go through its bounded local cache), rows are read and
written in batches, so no part of it is ever held whole in memory. Nothing is bounded: a user with
10,000 conversations gets all of them. Entry names are made here from sanitised parts (a document's
name is the user's input and may be hostile: `../../x`, `C:\\x`, a control character); the names as
stored are in the JSON files.
"""

from __future__ import annotations

import io
import json
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loguru import logger
from sqlalchemy import select

from app.auth.users import UserService
from app.clean import clean_line
from app.documents.registry import DocumentRegistry
from app.errors import NotFound
from app.storage.access_tokens import AccessToken
from app.storage.db import (
    Conversation,
    Database,
    Document,
    Feedback,
    Message,
    QuotaCounter,
    UsageRecord,
    User,
    UserQuota,
)
from app.storage.files import FileStore
from app.storage.groups_db import Group, GroupMember

FORMAT = 1  # the archive's layout version (manifest.json "format")
BATCH = 500  # rows read per round trip
NAME_CHARS = 120  # an entry's file name (the full name is in the JSON)
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.IGNORECASE)  # Windows device names


@dataclass
class ExportSummary:
    """What an archive holds (also its manifest.json)."""

    user: str
    documents: int = 0
    originals: int = 0
    original_bytes: int = 0
    missing_originals: list[str] = field(default_factory=list)  # document ids whose original is gone
    conversations: int = 0
    messages: int = 0
    feedback: int = 0
    usage_records: int = 0


class DataExport:
    def __init__(self, db: Database, users: UserService, registry: DocumentRegistry, files: FileStore) -> None:
        self._db = db
        self._users = users
        self._registry = registry
        self._files = files

    def write(self, username: str, target: Path) -> ExportSummary:
        """The archive of `username` (NotFound for no such user) at `target`: written beside it under
        another name and moved there when complete, owner-only (0600); nothing is left on failure."""
        account = self._users.get(username)
        partial = target.with_name(f".{target.name}.{os.getpid()}.part")
        summary = ExportSummary(account.username)
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
                archive = _Archive(zf)
                archive.text("README.txt", README)
                archive.json("account.json", self._account(account.username))
                self._documents(archive, account.username, summary)
                self._conversations(archive, account.username, summary)
                self._feedback(archive, account.username, summary)
                self._usage(archive, account.username, summary)
                manifest = {"format": FORMAT, "created_at": _now(), **summary.__dict__}
                archive.json("manifest.json", manifest)
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        logger.info(
            "data exported user={} documents={} originals={} bytes={} conversations={} messages={} missing={}",
            summary.user,
            summary.documents,
            summary.originals,
            summary.original_bytes,
            summary.conversations,
            summary.messages,
            len(summary.missing_originals),
        )
        return summary

    # ---- parts --------------------------------------------------------------------------------

    def _account(self, username: str) -> dict[str, Any]:
        with self._db.session() as s:
            user = s.scalar(select(User).where(User.username == username))
            if user is None:
                raise NotFound(f"no such user: {username!r}")
            groups = s.execute(
                select(Group.name, GroupMember.role, GroupMember.source, GroupMember.added_at)
                .join(GroupMember, GroupMember.group_id == Group.id)
                .where(GroupMember.user_id == user.id)
                .order_by(Group.name)
            ).all()
            tokens = s.scalars(
                select(AccessToken).where(AccessToken.user_id == user.id).order_by(AccessToken.created_at)
            )
            limits = s.scalar(select(UserQuota.limits).where(UserQuota.owner == username))
            return {
                "username": user.username,
                "is_admin": user.is_admin,
                "disabled": user.disabled,
                "created_at": user.created_at,
                "groups": [{"group": g, "role": r, "source": src, "added_at": at} for g, r, src, at in groups],
                # what each token is, never its secret or its hash
                "access_tokens": [
                    {
                        "id": t.id,
                        "prefix": t.prefix,
                        "name": t.name,
                        "scopes": t.scopes.split(),
                        "created_at": t.created_at,
                        "expires_at": t.expires_at,
                        "last_used_at": t.last_used_at,
                        "revoked_at": t.revoked_at,
                    }
                    for t in tokens
                ],
                "limits": limits or {},
            }

    def _documents(self, archive: _Archive, username: str, summary: ExportSummary) -> None:
        listed: list[dict[str, Any]] = []
        for doc in _rows(
            self._db, select(Document).where(Document.owner == username).order_by(Document.created_at, Document.id)
        ):
            entry: str | None = None
            try:
                with self._files.local_copy(username, doc.sha256) as local:
                    entry = archive.file(f"documents/{safe_name(doc.name, doc.id, '.pdf')}", local)
                    summary.originals += 1
                    summary.original_bytes += local.stat().st_size
            except NotFound:
                summary.missing_originals.append(doc.id)  # said in the manifest, never silently left out
            listed.append(
                {
                    "id": doc.id,
                    "name": doc.name,
                    "original": entry,
                    "sha256": doc.sha256,
                    "size_bytes": doc.size_bytes,
                    "pages": doc.pages,
                    "status": doc.status,
                    "error": doc.error,
                    "ocr_pages": doc.ocr_pages,
                    "created_at": doc.created_at,
                    "updated_at": doc.updated_at,
                }
            )
        summary.documents = len(listed)
        archive.json("documents.json", listed)

    def _conversations(self, archive: _Archive, username: str, summary: ExportSummary) -> None:
        """conversations.json, then one Markdown file each (a second pass: a zip writes one entry at
        a time, and holding every conversation until the JSON is done would hold them all)."""
        with archive.json_list("conversations.json") as add:
            for item in self._conversation_items(username):
                add(item)
                summary.conversations += 1
                summary.messages += len(item["messages"])
        for n, item in enumerate(self._conversation_items(username), start=1):
            archive.text(
                f"conversations/{n:05d} {safe_name(item['title'], item['id'], '.md')}", readable_conversation(item)
            )

    def _conversation_items(self, username: str) -> Iterator[dict[str, Any]]:
        query = (
            select(Conversation)
            .where(Conversation.owner == username)
            .order_by(Conversation.created_at, Conversation.id)
        )
        for conv in _rows(self._db, query):
            messages = select(Message).where(Message.conversation_id == conv.id).order_by(Message.id)
            yield {
                "id": conv.id,
                "title": conv.title,
                "created_at": conv.created_at,
                "updated_at": conv.updated_at,
                "messages": [
                    {
                        "role": m.role,
                        "content": m.content,
                        "citations": m.citations or [],
                        "claims": m.claims,
                        "created_at": m.created_at,
                    }
                    for m in _rows(self._db, messages)
                ],
            }

    def _feedback(self, archive: _Archive, username: str, summary: ExportSummary) -> None:
        query = select(Feedback).where(Feedback.owner == username).order_by(Feedback.id)
        with archive.json_list("feedback.json") as add:
            for f in _rows(self._db, query):
                add(
                    {
                        "conversation_id": f.conversation_id,
                        "rating": f.rating,
                        "comment": f.comment,
                        "question": f.question,
                        "answer": f.answer,
                        "sources": f.sources,
                        "model": f.model,
                        "created_at": f.created_at,
                    }
                )
                summary.feedback += 1

    def _usage(self, archive: _Archive, username: str, summary: ExportSummary) -> None:
        query = select(UsageRecord).where(UsageRecord.owner == username).order_by(UsageRecord.id)
        with archive.json_list("usage.json") as add:
            for u in _rows(self._db, query):
                add(
                    {
                        "kind": u.kind,
                        "model": u.model,
                        "prompt_tokens": u.prompt_tokens,
                        "completion_tokens": u.completion_tokens,
                        "created_at": u.created_at,
                    }
                )
                summary.usage_records += 1
        counters = (
            select(QuotaCounter)
            .where(QuotaCounter.owner == username)
            .order_by(QuotaCounter.period, QuotaCounter.metric)
        )
        with archive.json_list("usage-counters.json") as add:
            for c in _rows(self._db, counters):
                add({"metric": c.metric, "period": c.period, "used": c.used})


def _rows(db: Database, query: Any) -> Iterator[Any]:
    """Every row of `query`, read BATCH at a time, each batch its own short unit of work. The query's
    order must be total (ending in a unique column) so that no row is skipped or read twice."""
    offset = 0
    while True:
        with db.session() as s:
            batch = list(s.scalars(query.offset(offset).limit(BATCH)))
        yield from batch
        if len(batch) < BATCH:
            return
        offset += len(batch)


class _Archive:
    """Entries of one zip, each name checked once more to stay inside the archive and used once."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self._zf = zf
        self._names: set[str] = set()

    def _name(self, name: str) -> str:
        parts = name.split("/")
        if name.startswith("/") or any(p in ("", ".", "..") or "\\" in p or ":" in p for p in parts):
            raise ValueError(f"unsafe archive entry name: {name!r}")
        stem, dot, ext = name.rpartition(".")
        stem, ext = (stem, dot + ext) if dot and "/" not in ext else (name, "")
        candidate, n = name, 2
        while candidate.casefold() in self._names:  # two documents of one name: both kept
            candidate, n = f"{stem} ({n}){ext}", n + 1
        self._names.add(candidate.casefold())
        return candidate

    def text(self, name: str, text: str) -> str:
        name = self._name(name)
        self._zf.writestr(name, text.encode("utf-8"))
        return name

    def json(self, name: str, value: Any) -> str:
        return self.text(name, json.dumps(value, ensure_ascii=False, indent=2, default=_json_default) + "\n")

    @contextmanager
    def json_list(self, name: str) -> Iterator[Any]:
        """A JSON array written item by item (a long history never sits in memory)."""
        info = zipfile.ZipInfo(self._name(name), date_time=datetime.now().timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        with self._zf.open(info, "w", force_zip64=True) as raw:
            out = io.TextIOWrapper(raw, encoding="utf-8")
            first = [True]

            def add(item: Any) -> None:
                out.write("[\n" if first[0] else ",\n")
                first[0] = False
                out.write(json.dumps(item, ensure_ascii=False, default=_json_default))

            yield add
            out.write("[]\n" if first[0] else "\n]\n")
            out.flush()
            out.detach()

    def file(self, name: str, source: Path) -> str:
        """A file copied in blocks; stored as it is (a PDF is compressed already)."""
        name = self._name(name)
        self._zf.write(source, name, compress_type=zipfile.ZIP_STORED)
        return name


def safe_name(name: str, fallback: str, extension: str) -> str:
    """One path component made from a user's name for something: no folder part, no separator, no
    control or invisible character, no leading dot, not a device name, at most NAME_CHARS characters,
    ending in `extension`; `fallback` (an id) when nothing usable is left."""
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    base = clean_line(_UNSAFE.sub("_", base), 10 * NAME_CHARS)
    if base.lower().endswith(extension):
        base = base[: -len(extension)]
    base = base.strip(" .")
    if not base or set(base) <= {"_", "."}:
        base = fallback
    if _RESERVED.match(base):
        base = f"_{base}"
    return base[:NAME_CHARS].rstrip(" .") + extension


def readable_conversation(item: dict[str, Any]) -> str:
    """A conversation as Markdown: each question, its answer and the sources it cited."""
    lines = [
        f"# {item['title']}",
        "",
        f"Started {_stamp(item['created_at'])}, last answer {_stamp(item['updated_at'])}.",
    ]
    for m in item["messages"]:
        who = "You" if m["role"] == "user" else "Answer"
        lines += ["", f"## {who} ({_stamp(m['created_at'])})", "", m["content"]]
        citations = m.get("citations") or []
        if citations:
            lines += ["", "Sources:"]
            for c in citations:
                quote = clean_line(str(c.get("text", "")), 300)
                page = c.get("page_label") or c.get("page")
                lines.append(f"- [{c.get('number', '?')}] {c.get('file', '?')}, page {page}: “{quote}”")
    return "\n".join(lines) + "\n"


def default_file_name(username: str, when: datetime | None = None) -> str:
    """`<user>-data-<UTC time>.zip`, the user's name made safe for a file system."""
    stamp = (when or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return safe_name(f"{username}-data-{stamp}", "data", ".zip")


def _stamp(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else "-"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


README = """\
Your data from PDF Q&A.

manifest.json        what this archive holds, when it was made; documents whose original could not be read
account.json         your account, your groups and roles, your access tokens (never their secrets), your limits
documents.json       your documents: name, size, pages, status; "original" is the file's place in documents/
documents/           the original PDFs, as uploaded
conversations.json   your conversations, each with its messages, their citations and claim checks
conversations/       the same conversations, one readable Markdown file each
feedback.json        your ratings and comments on answers
usage.json           each model call made for you (tokens)
usage-counters.json  your usage counted against limits, per day or month

Times are UTC.
"""
