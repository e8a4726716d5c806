# syntax=docker/dockerfile:1.7
# PDF question answering: Gradio UI + LlamaIndex + Qdrant. Multi-stage, slim, non-root.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
ENV PATH=/opt/venv/bin:$PATH
# CPU-only torch first (the default wheel on PyPI is a multi-GB CUDA build); same choice as the Makefile.
ARG TORCH=torch==2.13.0+cpu
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
# DL3013 (unpinned pip install): TORCH pins it; hadolint cannot see through the build argument.
# hadolint ignore=DL3013
RUN pip install "${TORCH}" --extra-index-url "${TORCH_INDEX}"
COPY pyproject.toml README.md ./
COPY app ./app
# The app with the PostgreSQL driver and the object-store backends (s3://, gs://, az://) for files.url.
# DL3013: its dependencies are the version ranges of pyproject.toml (there is no lock file).
# hadolint ignore=DL3013
RUN pip install ".[postgres,s3,gcs,azure,otel]"

FROM python:3.11-slim-bookworm
# OCR of scanned pages: Tesseract's English, Japanese (horizontal, vertical) and orientation data
# (tesserocr in the venv brings its own libtesseract; the tesseract CLI is there for operators).
# DL3008 (unpinned apt packages): the bookworm base image pins the release; exact versions would
# break the build at Debian's next point release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd \
        tesseract-ocr-jpn tesseract-ocr-jpn-vert tesseract-ocr-script-jpan \
    && rm -rf /var/lib/apt/lists/*
# uid 1000: Hugging Face Spaces run the container as 1000, so /data stays writable there too.
RUN groupadd --system --gid 1000 app \
    && useradd --system --uid 1000 --gid 1000 --home-dir /home/app --create-home app \
    && mkdir -m 700 /data && chown app:app /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv
COPY --chown=app:app config.yaml ./config.yaml
ENV PATH=/opt/venv/bin:$PATH \
    APP_DATA_DIR=/data \
    APP_CONFIG=/srv/config.yaml \
    HF_HUB_OFFLINE=1 \
    GRADIO_ANALYTICS_ENABLED=False \
    PYTHONUNBUFFERED=1 \
    APP_EMBEDDINGS__ONNX_CACHE_DIR=/opt/onnx
# The embedding model's one-time ONNX export (embeddings.backend auto) is made here, not at first start.
RUN python -c "from app.config import load_settings; from app.models.embeddings import build_embedding_model; \
build_embedding_model(load_settings().embeddings).load()" \
    && chmod -R a+rX /opt/onnx
USER 1000:1000
VOLUME ["/data"]
EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/healthz', timeout=4)"]
CMD ["python", "-m", "app", "serve", "--host", "0.0.0.0", "--port", "7860"]
