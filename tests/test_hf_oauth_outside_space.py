"""`auth.mode: hf_oauth` outside a Hugging Face Space (issue 28): `serve` ends at once with one clear
line and exit 2 (a configuration error), not Gradio's "log in to Hugging Face" traceback after the
whole start."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.cli import run_app


def test_hf_oauth_outside_a_space_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = {"APP_AUTH__MODE": "hf_oauth", "APP_AUTH__ALLOW_ANY_HF_USER": "true", "APP_SERVER__PORT": "1"}
    done = run_app(tmp_path / "data", "serve", env=env, timeout=60)
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert lines == [
        "error: auth.mode hf_oauth works only inside a Hugging Face Space with `hf_oauth: true` in its README "
        "front matter (SPACE_ID, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET not set); elsewhere use auth.mode password"
    ]
    # A Space's variables present, the check lets the start go on (to the next problem here: port 1).
    partial = run_app(tmp_path / "data", "serve", env=env | {"SPACE_ID": "o/s", "OAUTH_CLIENT_ID": "c"}, timeout=60)
    assert "OAUTH_CLIENT_SECRET not set" in partial.stderr and "SPACE_ID" not in partial.stderr
