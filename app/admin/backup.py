"""Backup and restore of everything a workspace needs: the database, the original files and the
vectors, to or from a folder or an object-store URL (anything fsspec opens: /path, s3://, gs://...).

A backup is consistent by construction: the database is read in one transaction, and only documents
that were complete ("ready") in that snapshot are kept, with their files and exactly their vectors
(a document whose vectors no longer match its chunk count is left out). A document being ingested
while the backup runs is therefore absent from it, never half present. Sessions, login failures,
ingestion jobs and cached answers are not backed up (they are transient or re-made).

Layout: manifest.json (versions, counts, the SHA-256 of every other file), db/<table>.jsonl,
vectors.jsonl, files/<owner-key>/<sha256>.pdf. Restore checks every checksum and count first and
refuses a damaged or incomplete backup, and refuses a workspace that already holds data unless
forced.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import fsspec
from loguru import logger
from sqlalchemy import DateTime, Integer, delete, select, text

from app import app_version
from app.config import Settings
from app.errors import AppError
from app.storage.db import Base, Database
from app.storage.files import FileStore, owner_key
from app.storage.index_state import IndexStateStore, built_precision, differences
from app.storage.vector_store import DOC_KEY, TENANT_KEY, VectorStore

FORMAT = 1
# Transient or re-made; index_state describes the collection of the workspace restored into.
SKIPPED_TABLES = frozenset(
    {"login_sessions", "login_failures", "ingest_jobs", "answer_cache", "alembic_version", "index_state"}
)


class BackupError(AppError):
    """The backup cannot be made, or cannot be restored (damaged, incomplete, wrong target)."""


class _Writer:
    """Files under the destination, each hashed as it is written."""

    def __init__(self, url: str, options: dict[str, Any]) -> None:
        self.fs, self.root = fsspec.core.url_to_fs(url, **options)
        self.root = self.root.rstrip("/")
        self.sums: dict[str, str] = {}

    @contextmanager
    def open(self, name: str) -> Iterator[_Hashing]:
        path = f"{self.root}/{name}"
        self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        digest = hashlib.sha256()
        with self.fs.open(path, "wb") as raw:
            yield _Hashing(raw, digest)
        self.sums[name] = digest.hexdigest()


class _Hashing:
    def __init__(self, raw: Any, digest: Any) -> None:
        self._raw, self._digest = raw, digest

    def write(self, data: bytes) -> int:
        self._digest.update(data)
        return int(self._raw.write(data))


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


class BackupService:
    def __init__(
        self,
        db: Database,
        files: FileStore,
        vectors: VectorStore,
        embedding_model: str,
        collection: str,
        url_options: Callable[[str], dict[str, Any]] = lambda url: {},
    ) -> None:
        """`url_options`: the fsspec options (endpoint, credentials) for a backup's URL."""
        self._db = db
        self._url_options = url_options
        self._files = files
        self._vectors = vectors
        self._model = embedding_model
        self._collection = collection

    # ---- backup -------------------------------------------------------------------------------

    def backup(self, dest: str) -> dict[str, Any]:
        out = _Writer(dest, self._url_options(dest))
        if out.fs.exists(f"{out.root}/manifest.json"):
            raise BackupError(f"{dest} already holds a backup; choose an empty destination")
        tables, ready = self._dump_database(out)
        vectors, kept = self._dump_vectors(out, ready)
        dropped = set(ready) - kept
        if dropped:  # changed while we copied: leave them out rather than restore them broken
            logger.warning("backup leaves out documents that changed during the backup count={}", len(dropped))
            tables["documents"] -= len(dropped)
            self._rewrite_documents(out, kept)
        files = self._copy_files(out, {ready[d] for d in kept})
        manifest = {
            "format": FORMAT,
            "app_version": app_version(),
            "schema_revision": self._db.current_revision(),
            "embedding_model": self._model,
            "vector_dim": self._vectors.dim,
            "index_fingerprint": self._fingerprint(),
            "collection": self._collection,
            "created_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "counts": {"tables": tables, "vectors": vectors, "files": files},
            "sha256": out.sums,
        }
        with out.fs.open(f"{out.root}/manifest.json", "w") as f:
            json.dump(manifest, f, indent=2, sort_keys=True)
        logger.info(
            "backup done dest={} documents={} vectors={} files={}", dest, tables.get("documents"), vectors, files
        )
        return manifest

    def _fingerprint(self) -> dict[str, Any] | None:
        state = IndexStateStore(self._db).get(self._collection)
        return state[1] if state else None

    def _dump_database(self, out: _Writer) -> tuple[dict[str, int], dict[str, tuple[str, str]]]:
        """All tables in one read transaction; documents only when ready. Returns the row counts and
        the ready documents (id -> (owner, sha256))."""
        counts: dict[str, int] = {}
        ready: dict[str, tuple[str, str]] = {}
        self._documents_rows: list[dict[str, Any]] = []
        with self._db.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                # Set on the connection before its transaction begins: a SET TRANSACTION here would
                # itself open the transaction and the begin() below would refuse.
                conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                if conn.dialect.name == "sqlite":
                    # The sqlite3 driver starts a transaction only before a write, so each SELECT
                    # would see the database of its own moment; BEGIN makes one snapshot (WAL).
                    conn.exec_driver_sql("BEGIN")
                for table in Base.metadata.sorted_tables:
                    if table.name in SKIPPED_TABLES:
                        continue
                    query = select(table)
                    if table.name == "documents":
                        query = query.where(table.c.status == "ready")
                    n = 0
                    with out.open(f"db/{table.name}.jsonl") as f:
                        for row in conn.execute(query).mappings():
                            item = {k: _jsonable(v) for k, v in row.items()}
                            f.write((json.dumps(item, ensure_ascii=False) + "\n").encode())
                            n += 1
                            if table.name == "documents":
                                ready[item["id"]] = (item["owner"], item["sha256"])
                                self._documents_rows.append(item)
                    counts[table.name] = n
        return counts, ready

    def _rewrite_documents(self, out: _Writer, kept: set[str]) -> None:
        with out.open("db/documents.jsonl") as f:
            for item in self._documents_rows:
                if item["id"] in kept:
                    f.write((json.dumps(item, ensure_ascii=False) + "\n").encode())

    def _dump_vectors(self, out: _Writer, ready: dict[str, tuple[str, str]]) -> tuple[int, set[str]]:
        chunks = {item["id"]: int(item["chunks"]) for item in self._documents_rows}
        seen: dict[str, int] = {}
        n = 0
        with out.open("vectors.jsonl") as f:
            for point in self._vectors.export_points():
                doc_id = point["payload"].get(DOC_KEY)
                if doc_id not in ready or point["payload"].get(TENANT_KEY) != ready[doc_id][0]:
                    continue  # a document in flight, deleted, or not in the snapshot
                seen[doc_id] = seen.get(doc_id, 0) + 1
                f.write((json.dumps(point, ensure_ascii=False) + "\n").encode())
                n += 1
        kept = {d for d in ready if seen.get(d, 0) == chunks[d]}
        if kept != set(ready):
            # Rewrite without the points of left-out documents.
            points = [p for p in self._vectors.export_points() if p["payload"].get(DOC_KEY) in kept]
            with out.open("vectors.jsonl") as f:
                for point in points:
                    f.write((json.dumps(point, ensure_ascii=False) + "\n").encode())
            n = len(points)
        return n, kept

    def _copy_files(self, out: _Writer, needed: set[tuple[str, str]]) -> int:
        for owner, sha in sorted(needed):
            target = f"files/{owner_key(owner)}/{sha}.pdf"
            with self._files.local_copy(owner, sha) as local, out.open(target) as f, open(local, "rb") as src:
                while chunk := src.read(1 << 20):
                    f.write(chunk)
        return len(needed)

    # ---- restore ------------------------------------------------------------------------------

    def restore(self, src: str, force: bool = False) -> dict[str, Any]:
        fs, root = fsspec.core.url_to_fs(src, **self._url_options(src))
        root = root.rstrip("/")
        manifest = self._verify(fs, root, src)
        if self._vectors.dim != manifest["vector_dim"]:
            raise BackupError(
                f"the backup's vectors have {manifest['vector_dim']} dimensions ({manifest['embedding_model']}); "
                f"this configuration makes {self._vectors.dim}: restore with the backup's embedding model, then reindex"
            )
        wanted, here = manifest.get("index_fingerprint"), self._fingerprint()
        if wanted and here and wanted != here:
            changed = "; ".join(differences(wanted, here))
            raise BackupError(
                f"the backup's vectors were made with other settings ({changed}); restore with the backup's "
                "settings, then reindex"
            )
        if not force and self._holds_data():
            raise BackupError(
                "this workspace already holds users or documents; restore into an empty one, or use --force"
            )
        if manifest["schema_revision"] not in self._db.known_revisions():
            raise BackupError(
                f"the backup was made by a newer version (schema {manifest['schema_revision']}); upgrade the app first"
            )
        self._db.migrate()  # older backups load into the newest schema: migrations only add
        self._load_database(fs, root, force)
        owners = self._load_files(fs, root)
        self._load_vectors(fs, root, force)
        logger.info("restore done src={} documents={}", src, manifest["counts"]["tables"].get("documents"))
        return {**manifest, "owners": owners}

    def _verify(self, fs: Any, root: str, src: str) -> dict[str, Any]:
        manifest = _manifest(fs, root, src)
        if manifest.get("format") != FORMAT:
            raise BackupError(f"unknown backup format {manifest.get('format')!r}")
        for name, expected in manifest["sha256"].items():
            digest = hashlib.sha256()
            try:
                with fs.open(f"{root}/{name}", "rb") as f:
                    while chunk := f.read(1 << 20):
                        digest.update(chunk)
            except FileNotFoundError as e:
                raise BackupError(f"the backup is incomplete: {name} is missing") from e
            if digest.hexdigest() != expected:
                raise BackupError(f"the backup is damaged: {name} does not match its checksum")
        for table, n in manifest["counts"]["tables"].items():
            if f"db/{table}.jsonl" not in manifest["sha256"] or self._lines(fs, f"{root}/db/{table}.jsonl") != n:
                raise BackupError(f"the backup is incomplete: table {table} should have {n} rows")
        if self._lines(fs, f"{root}/vectors.jsonl") != manifest["counts"]["vectors"]:
            raise BackupError("the backup is incomplete: the vectors do not match their count")
        return manifest

    @staticmethod
    def _lines(fs: Any, path: str) -> int:
        with fs.open(path, "rb") as f:
            return sum(1 for _ in f)

    def _holds_data(self) -> bool:
        with self._db.engine.connect() as conn:
            tables = {t.name: t for t in Base.metadata.sorted_tables}
            for name in ("users", "documents"):
                try:
                    if conn.execute(select(tables[name]).limit(1)).first() is not None:
                        return True
                except Exception:  # the table does not exist yet: an empty database
                    return False
        return False

    def _load_database(self, fs: Any, root: str, force: bool) -> None:
        tables = [t for t in Base.metadata.sorted_tables if t.name not in SKIPPED_TABLES]
        with self._db.engine.begin() as conn:
            if force:
                for table in reversed(Base.metadata.sorted_tables):
                    if table.name != "alembic_version":
                        conn.execute(delete(table))
            for table in tables:
                path = f"{root}/db/{table.name}.jsonl"
                if not fs.exists(path):
                    continue
                dates = {c.name for c in table.columns if isinstance(c.type, DateTime)}
                rows = []
                with fs.open(path, "r") as f:
                    for line in f:
                        item = json.loads(line)
                        for col in dates & item.keys():
                            if item[col] is not None:
                                item[col] = datetime.fromisoformat(item[col])
                        rows.append(item)
                if rows:
                    conn.execute(table.insert(), rows)
            if conn.dialect.name == "postgresql":  # integer ids continue after the restored ones
                for table in tables:
                    pk = list(table.primary_key.columns)
                    if len(pk) == 1 and isinstance(pk[0].type, Integer):
                        conn.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                                f"COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 1))"
                            )
                        )

    def _load_files(self, fs: Any, root: str) -> int:
        import tempfile
        from pathlib import Path

        owners: dict[str, str] = {}
        with fs.open(f"{root}/db/documents.jsonl", "r") as f:
            for line in f:
                item = json.loads(line)
                owners[owner_key(item["owner"])] = item["owner"]
        count = 0
        for path in fs.glob(f"{root}/files/*/*.pdf"):
            key, name = path.rsplit("/", 2)[-2:]
            sha = name.removesuffix(".pdf")
            with tempfile.TemporaryDirectory() as tmp:
                local = Path(tmp) / "doc.pdf"
                fs.get(path, str(local))
                self._files.put(owners[key], sha, local)
            count += 1
        return count

    def _load_vectors(self, fs: Any, root: str, force: bool) -> None:
        if force:
            self._vectors.clear()
        batch: list[dict[str, Any]] = []
        with fs.open(f"{root}/vectors.jsonl", "r") as f:
            for line in f:
                batch.append(json.loads(line))
                if len(batch) >= 256:
                    self._vectors.import_points(batch)
                    batch = []
        if batch:
            self._vectors.import_points(batch)


def _manifest(fs: Any, root: str, src: str) -> dict[str, Any]:
    try:
        with fs.open(f"{root}/manifest.json", "r") as f:
            manifest: dict[str, Any] = json.load(f)
    except (FileNotFoundError, ValueError) as e:
        raise BackupError(f"{src} is not a backup (no readable manifest.json)") from e
    return manifest


def at_backup_precision(settings: Settings, src: str, options: dict[str, Any]) -> Settings:
    """The settings to restore `src` with. On `embeddings.backend: auto` an empty workspace opens as
    a new index, at int8; a backup of an index made at fp32 (every one made before int8 was auto's
    choice) is restored at fp32 instead, which auto keeps afterwards (the index's fingerprint says
    fp32): the vectors restored are the backup's, not re-embedded."""
    e = settings.embeddings
    if e.provider != "local" or e.backend != "auto":
        return settings
    fs, root = fsspec.core.url_to_fs(src, **options)
    fp = _manifest(fs, root.rstrip("/"), src).get("index_fingerprint")
    if not fp or built_precision(fp) != "fp32":
        return settings
    logger.info("restore at the backup's precision: fp32 (embeddings.backend auto)")
    return settings.model_copy(update={"embeddings": e.model_copy(update={"backend": "onnx"})})
