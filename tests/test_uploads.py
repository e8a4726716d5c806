"""The handler's own check of upload paths (behind Gradio's, which it does not rely on)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.web.uploads import UploadLedger, UploadRefused


def test_only_regular_files_inside_the_upload_folder_are_accepted(tmp_path: Path) -> None:
    folder = tmp_path / "uploads"
    (folder / "abc").mkdir(parents=True)
    good = folder / "abc" / "doc.pdf"
    good.write_bytes(b"%PDF-1.4")
    outside = tmp_path / "secret.pdf"
    outside.write_bytes(b"%PDF-1.4 secret")
    (folder / "abc" / "link.pdf").symlink_to(outside)
    ledger = UploadLedger(folder)
    assert ledger.accept(str(good)) == good.resolve()
    messages = set()
    for bad in (
        outside,
        folder / "abc" / "link.pdf",
        folder / "abc" / "missing.pdf",
        folder,
        folder / ".." / "secret.pdf",
    ):
        with pytest.raises(UploadRefused) as refused:
            ledger.accept(str(bad))
        messages.add(str(refused.value))
    assert messages == {"this file was not uploaded here; please upload it again"}  # whatever the reason
