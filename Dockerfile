# syntax=docker/dockerfile:1.7
# PDF question answering: Gradio UI + LlamaIndex + Qdrant. Multi-stage, slim, non-root.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# CPU-only torch first: the default wheel on PyPI is a multi-GB CUDA build.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install ".[postgres]"

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /home/app --create-home app \
    && mkdir /data && chown app:app /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv
COPY --chown=app:app config.yaml ./config.yaml
ENV PATH=/opt/venv/bin:$PATH \
    APP_DATA_DIR=/data \
    APP_CONFIG=/srv/config.yaml \
    HF_HUB_OFFLINE=1 \
    GRADIO_ANALYTICS_ENABLED=False \
    PYTHONUNBUFFERED=1
USER app
VOLUME ["/data"]
EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/healthz', timeout=4)"
CMD ["python", "-m", "app", "serve", "--host", "0.0.0.0", "--port", "7860"]
