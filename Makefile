# The two commands a new machine needs (see README.md):
#   make run    start the app on its embedded defaults (embedded Qdrant, SQLite, files on local disk)
#   make test   run the whole test suite (installs everything it needs first)

PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The CPU build of torch, by name: PyPI's plain `torch` wheel for Linux is a multi-GB CUDA build.
# `+cpu` builds live on PyTorch's own index; pip also finds them in a local wheel folder
# (find-links), which is how offline machines get it. For a GPU build: make TORCH=torch==2.13.0 TORCH_INDEX=
TORCH       ?= torch==2.13.0+cpu
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: run test install system-deps lint format bench eval docs clean image-test

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, so that the app's `torch>=2.4` is already satisfied by the build chosen here.
	$(PY) -m pip install --quiet --retries 2 --timeout 30 '$(TORCH)' $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))
	$(PY) -m pip install --quiet -e '.[dev,torch]'
	touch $(STAMP)

install: $(STAMP)

# From Debian: headless Chromium (browser tests) and a Japanese font for its screenshots; Tesseract
# with its English, Japanese (horizontal and vertical) and orientation data for OCR of scanned pages.
OCR_DEBS := tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd tesseract-ocr-jpn tesseract-ocr-jpn-vert tesseract-ocr-script-jpan
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "noto sans cjk\|ipagothic" \
		|| ! command -v tesseract >/dev/null 2>&1 || ! tesseract --list-langs 2>/dev/null | grep -qx "jpn_vert" \
		|| [ ! -e /usr/share/dict/american-english ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-ipafont-gothic fonts-dejavu-core wamerican $(OCR_DEBS) >/dev/null; \
	fi

run: $(STAMP)
	$(PY) -m app serve

test: $(STAMP) system-deps
	$(PY) -m pytest -n 2 --dist loadfile

lint: $(STAMP)
	$(PY) -m ruff check app tests bench
	$(PY) -m ruff format --check app tests bench
	$(PY) -m mypy app

format: $(STAMP)
	$(PY) -m ruff format app tests bench
	$(PY) -m ruff check --fix app tests bench

# The floors are tests/test_eval.py's (MIN_HIT5, MIN_MRR), a little below the published figures
# (docs/retrieval-quality.md: hit@5 0.892, MRR 0.739), so a fresh clone passes.
eval: $(STAMP)
	$(PY) -m app eval --qa tests/data/eval/qa.jsonl --docs tests/data --output test-artifacts/eval.jsonl \
		--summary test-artifacts/eval-summary.json --min-hit5 0.88 --min-mrr 0.72

# Build the Docker image and use it as a user would (.ci/image-test; CI runs it after `make test`).
image-test: $(STAMP)
	.ci/image-test

bench: $(STAMP)
	$(PY) bench/run_all.py

# docs/configuration-reference.md, generated from the settings classes (tests/test_config_reference.py checks it).
docs: $(STAMP)
	$(PY) -m app.config_reference --output docs/configuration-reference.md

clean:
	rm -rf $(VENV) test-artifacts
