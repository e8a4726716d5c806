"""The LangChain tutorial stack, run by bench/ingest_vs_tutorial.py in its own virtual environment
(.bench-venvs/tutorial): it must not import the app.

    <tutorial venv>/bin/python bench/tutorial_stack.py PDF_DIR MODEL_DIR CHROMA_DIR CHUNKS_OUT

What the LangChain "build a RAG app" tutorial does, with the app's local model files:
PyPDFLoader per file, RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200),
HuggingFaceEmbeddings (sentence-transformers), Chroma persisted to a folder. Prints one JSON line;
writes the chunk texts to CHUNKS_OUT after the work (for the bench's token count).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def main() -> None:
    pdf_dir, model_dir, chroma_dir, chunks_out = (Path(a) for a in sys.argv[1:5])
    started = time.perf_counter()
    from langchain_chroma import Chroma
    from langchain_community.document_loaders import PyPDFLoader
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    embeddings = HuggingFaceEmbeddings(model=str(model_dir), model_kwargs={"device": "cpu"})
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    store = Chroma(collection_name="tutorial", embedding_function=embeddings, persist_directory=str(chroma_dir))
    imported = time.perf_counter()
    pages = chunks = 0
    texts: list[str] = []
    for pdf in sorted(pdf_dir.rglob("*.pdf")):
        docs = PyPDFLoader(str(pdf)).load()
        splits = splitter.split_documents(docs)
        store.add_documents(splits)
        pages += len(docs)
        chunks += len(splits)
        texts.extend(d.page_content for d in splits)
    seconds = time.perf_counter() - started
    stored = store._collection.count()
    chunks_out.write_text("\n".join(json.dumps(t) for t in texts))
    print(
        json.dumps(
            {
                "pages": pages,
                "chunks": chunks,
                "stored": stored,
                "start_up_s": round(imported - started, 2),
                "inside_s": round(seconds, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
