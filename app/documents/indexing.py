"""One document into the vector store: pages -> chunks -> vectors -> points, as a pipeline.

Pages arrive one at a time from the reader process and are chunked in a background thread; the
caller's thread embeds batches of chunks (sorted by token count, so little padding is computed); a
third thread sparse-encodes and writes the previous batch. Every hand-off is bounded, so a
2,000-page PDF is never held in memory at once, and the model is rarely left waiting. The model
itself loads in the background while the first pages are read. Pages recognised from their image
(OCR, in the reader process) are chunked like any other; their chunks carry `ocr` in their metadata.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from app.config import DocumentSettings
from app.documents.chunking import Chunker
from app.documents.pdf_reader import ReadLimits, no_text_error, open_pdf
from app.documents.pdf_text import PageText
from app.documents.pipeline import Background, Prefetch
from app.documents.sections import SEPARATOR, SectionTracker
from app.errors import IngestError
from app.models.embeddings import EmbeddingModel
from app.storage.vector_store import TENANT_KEY, VectorStore, chunk_point_id
from app.text_forms import match_form

if TYPE_CHECKING:  # imported where nodes are made: re-ingesting unchanged files never needs LlamaIndex
    from llama_index.core.schema import TextNode

# Chunks sorted by length together: the padding the model computes for nothing is 11 % of the real
# tokens with 128 (the manuals of tests/data, 32 per model batch), 3 % with 512, 1 % with all of them.
EMBED_BATCH = 512
# The first batch of a document is smaller, so the model starts after a few pages are read instead
# of waiting for a hundred (it would wait at the start of every file).
FIRST_BATCH = 32
EMBED_SLICE = 128  # chunks per embedding call, in length order; progress is reported after each
OCR_KEY = "ocr"  # in a chunk's metadata when its page's text was recognised from the page image
META_KEYS = [TENANT_KEY, "file_name", "page", "page_label", "start", "end", OCR_KEY]
SECTION_KEY = "section"  # the only metadata in the embedded (and sparse-encoded) text


@dataclass(frozen=True)
class Progress:
    file: str
    stage: Literal["queued", "reading", "recognising", "embedding", "done", "failed"]
    done: int = 0  # pages embedded so far (recognising: the number of the page being recognised)
    total: int = 0  # pages in the file
    message: str = ""


ProgressFn = Callable[[Progress], None]


@dataclass(frozen=True)
class DocumentRef:
    """What the points of one document carry: its id, owner and display name."""

    id: str
    owner: str
    name: str


@dataclass
class _Batch:
    nodes: list[TextNode] = field(default_factory=list)
    # What the embedding model reads, per node, and its tokens: the node's section path and text
    # (with DocumentSettings.collapse_unknown_tokens, one [UNK] for a run of them).
    dense: list[str] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)


@dataclass
class _Seen:
    text: bool = False  # some page had text
    notes: list[str] = field(default_factory=list)  # pages that needed recognising and have no text: why
    on_page: Callable[[PageText], None] = lambda _page: None  # each page as it is read (the read thread)

    def look(self, page: PageText) -> None:
        self.text = self.text or bool(page.text)
        if page.note:
            self.notes.append(f"p. {page.number}: {page.note}")
        self.on_page(page)


class DocumentIndexer:
    """Reads, chunks, embeds and stores documents; knows nothing of registries or quotas."""

    def __init__(
        self, settings: DocumentSettings, store: VectorStore, embedder: EmbeddingModel, limits: ReadLimits
    ) -> None:
        self._settings = settings
        self._store = store
        self._embedder = embedder
        self._limits = limits
        self._chunker = Chunker(
            embedder.count_tokens, embedder.split_tokens, settings.chunk_size, settings.chunk_overlap
        )

    def index(
        self,
        doc: DocumentRef,
        path: Path,
        report: ProgressFn = lambda _p: None,
        on_pages: Callable[[int], None] = lambda _n: None,
        on_page: Callable[[PageText], None] = lambda _page: None,
    ) -> tuple[int, int]:
        """(pages, chunks) of `path` written to the store under `doc`. `on_pages(count)` runs once,
        before anything is embedded, and only when the PDF has text (quotas count pages there);
        `on_page(page)` for every page as it is read (from the reading thread: recognised pages
        carry their words, pages that could not be recognised a note). Raises IngestError
        (unreadable, no text) or what the model or store raised; points already written stay for
        the caller to delete."""
        report(Progress(doc.name, "reading"))
        seen = _Seen(on_page=on_page)
        chunks = 0

        def recognising(number: int, count: int) -> None:
            report(Progress(doc.name, "recognising", done=number, total=count))

        # Opened first: the reader child reads the first pages while this process imports.
        pdf = open_pdf(path, self._settings.pdf_parser, self._limits, recognising)
        imported = threading.Event()
        if not self._embedder.loaded:  # a PDF that opens: load the model meanwhile
            threading.Thread(target=self._warm_up, args=(imported,), name="ingest-model-load", daemon=True).start()
        try:
            # Imported and loaded here, in the calling thread, before the read thread starts: two
            # threads importing LlamaIndex (or the tokenizer) for the first time at once can meet a
            # half-initialised module. The model thread makes only what needs neither until then.
            import llama_index.core.schema  # noqa: F401

            self._embedder.count_tokens(["tokenizer"])
        except BaseException:
            pdf.close()
            raise
        finally:
            imported.set()
        writer: Background[list[TextNode]] = Background(self._store.add, depth=2, name="ingest-store")
        reader = Prefetch(self.batches(doc, pdf, seen), depth=2, name="ingest-read")
        try:
            done = 0
            for batch in reader:
                if not chunks:
                    on_pages(pdf.count)
                    report(Progress(doc.name, "embedding", done=0, total=pdf.count))
                last = int(batch.nodes[-1].metadata["page"])
                # Each slice is stored as soon as it is embedded: when the document's last slice is
                # done, only it is left to write before the next document can start.
                for share, embedded in self._embed(doc.owner, batch):
                    report(Progress(doc.name, "embedding", done=done + int(share * (last - done)), total=pdf.count))
                    writer.put(embedded)
                done = last
                chunks += len(batch.nodes)
            writer.finish()
        except BaseException:
            pdf.close()  # stops the reader process first, so the read thread ends promptly
            reader.close()
            writer.abort()  # nothing is written after this returns
            raise
        finally:
            reader.close()
            pdf.close()
        if not chunks:
            if seen.text:
                raise IngestError("the PDF has no extractable text", reason="no_text")
            raise no_text_error(self._limits.ocr, seen.notes)
        return pdf.count, chunks

    def texts(self, path: Path) -> Iterator[str]:
        """What indexing `path` gives the embedding model, chunk by chunk (benchmarks)."""
        with open_pdf(path, self._settings.pdf_parser, self._limits) as pdf:
            for batch in self.batches(DocumentRef("probe", "probe", path.name), pdf, _Seen()):
                yield from batch.dense

    def batches(self, doc: DocumentRef, pages: Iterable[PageText], seen: _Seen | None = None) -> Iterator[_Batch]:
        """Chunks of the pages as nodes, FIRST_BATCH then EMBED_BATCH at a time, in document order."""
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

        sections = SectionTracker()
        batch = _Batch()
        first = True  # the document's first batch is FIRST_BATCH chunks
        for page in pages:
            if seen is not None:
                seen.look(page)
            sections.start_page(page)
            for i, chunk in enumerate(self._chunker.split(page.text)):
                metadata: dict[str, str | int] = {
                    TENANT_KEY: doc.owner,
                    "file_name": doc.name,
                    "page": page.number,
                    "page_label": page.label,
                    "start": chunk.start,
                    "end": chunk.end,
                }
                if page.ocr:
                    metadata[OCR_KEY] = 1
                titles = sections.path(chunk.start, chunk.end) if self._settings.section_context else []
                section, section_tokens = self._section_header(titles, chunk.tokens)
                if section:
                    metadata[SECTION_KEY] = section
                node = TextNode(
                    id_=chunk_point_id(doc.id, page.number, i),
                    text=chunk.text,
                    metadata=metadata,
                    excluded_embed_metadata_keys=META_KEYS,
                    excluded_llm_metadata_keys=[*META_KEYS, SECTION_KEY],
                    metadata_template="{value}",
                    start_char_idx=chunk.start,
                    end_char_idx=chunk.end,
                )
                node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=doc.id)
                batch.nodes.append(node)
                dense, tokens = self._dense_input(node, chunk.tokens + section_tokens)
                batch.dense.append(dense)
                batch.tokens.append(tokens)
                if len(batch.nodes) >= (min(FIRST_BATCH, EMBED_BATCH) if first else EMBED_BATCH):
                    first = False
                    yield batch
                    batch = _Batch()
        if batch.nodes:
            yield batch

    def _dense_input(self, node: TextNode, tokens: int) -> tuple[str, int]:
        """What the embedding model reads for a node, and its tokens: its section path and text
        (get_content(MetadataMode.EMBED)); with `collapse_unknown_tokens`, one [UNK] for a run of
        them (the sparse encoder and the answers keep the text)."""
        from llama_index.core.schema import MetadataMode

        text = node.get_content(MetadataMode.EMBED)
        if self._settings.collapse_unknown_tokens:
            return self._collapse_unknown(text, tokens)
        return text, tokens

    def _collapse_unknown(self, text: str, tokens: int) -> tuple[str, int]:
        """`text` in the model's form (match_form) with each [UNK] token that follows another one
        replaced by a space: the model reads one [UNK] for a run of characters its vocabulary lacks
        (many kanji for all-MiniLM-L6-v2), which it could not tell apart anyway. The space keeps the
        neighbours' word-pieces as they were. Only for a WordPiece tokenizer with [UNK]."""
        tokenizer: Any = getattr(self._embedder, "tokenizer", None)
        unk = tokenizer.token_to_id("[UNK]") if hasattr(tokenizer, "token_to_id") else None
        if unk is None or not hasattr(tokenizer, "encode"):
            return text, tokens
        form = match_form(text)
        encoding = tokenizer.encode(form, add_special_tokens=False)
        drop = [
            encoding.offsets[i]
            for i in range(1, len(encoding.ids))
            if encoding.ids[i] == unk and encoding.ids[i - 1] == unk
        ]
        if not drop:
            return text, tokens
        parts, at = [], 0
        for start, end in drop:
            parts += [form[at:start], " "]
            at = end
        parts.append(form[at:])
        return "".join(parts), tokens - len(drop)

    def _section_header(self, titles: list[str], chunk_tokens: int) -> tuple[str, int]:
        """The section path and its tokens, outermost levels dropped until it fits beside the chunk
        in the embedding model's input (the model would silently cut the chunk's tail otherwise)
        and, with `section_header_tokens`, until it is at most that long: the innermost heading is
        kept whenever it fits the model, however long."""
        # max_tokens already leaves out the model's special tokens; 4 spare for the blank line
        # between header and chunk and for word-pieces that merge differently at the joint.
        budget = self._embedder.max_tokens - chunk_tokens - 4
        cap = self._settings.section_header_tokens or budget
        while titles:
            header = SEPARATOR.join(titles)
            tokens = self._embedder.count_tokens([header])[0]
            if tokens <= budget and (tokens <= cap or len(titles) == 1):
                return header, tokens
            titles = titles[1:]
        return "", 0

    def _warm_up(self, imported: threading.Event) -> None:
        """The model loaded in the background: what needs no LlamaIndex at once (an ONNX session,
        made while LlamaIndex is imported), the rest once the import is done."""
        with contextlib.suppress(Exception):  # raised again, and reported, where the model is first used
            self._embedder.prepare()
            imported.wait()
            self._embedder.load()

    def _embed(self, owner: str, batch: _Batch) -> Iterator[tuple[float, list[TextNode]]]:
        """Vectors onto the batch's nodes, EMBED_SLICE chunks per call in length order; yields the
        share of the batch done and the nodes embedded by each call."""
        texts = batch.dense
        order = sorted(range(len(texts)), key=lambda i: batch.tokens[i])
        for start in range(0, len(order), EMBED_SLICE):
            part = order[start : start + EMBED_SLICE]
            vectors = self._embedder.embed_documents(
                [texts[i] for i in part], owner, token_counts=[batch.tokens[i] for i in part]
            )
            for i, vector in zip(part, vectors, strict=True):
                batch.nodes[i].embedding = vector
            yield (start + len(part)) / len(order), [batch.nodes[i] for i in part]
