"""Property-based tests of the API against its own OpenAPI schema (schemathesis, a bounded number of
examples per operation): whatever a client sends, signed in with a live token of every scope, no
answer is a server error, and every answer has the content type and the shape the schema gives it
(errors included). Its own user, so the documents it may delete are nobody else's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from app.auth.tokens import TokenService
from app.storage.db import Database
from tests.fixtures.api import ApiWorld, add_user

MAX_EXAMPLES = 20


@pytest.fixture(scope="module")
def fuzz_tokens(api_world: ApiWorld) -> Iterator[Callable[[], str]]:
    """Makes tokens of every scope for the user `fuzz`, one per operation (so that no operation
    meets the per-token rate limit that the ones before it used up), straight in the server's database."""
    add_user(api_world.server.data_dir, "fuzz")
    db = Database(f"sqlite:///{api_world.server.data_dir / 'app.db'}")
    tokens = TokenService(db)
    yield lambda: tokens.create("fuzz", ["read", "ask", "write"], "1h").token
    db.close()


def test_every_operation_answers_per_its_schema_and_never_fails(
    api_world: ApiWorld, fuzz_tokens: Callable[[], str]
) -> None:
    """Each operation of the schema in turn (schemathesis's pytest plugin does not run under this
    pytest, so the operations are walked here, each with Hypothesis and its own example budget)."""
    schema = schemathesis.openapi.from_url(f"{api_world.url}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    seen: dict[str, set[int]] = {}
    for operation in operations:
        _fuzz(operation, api_world.url, {"Authorization": f"Bearer {fuzz_tokens()}"}, seen)
    assert len(seen) == len(operations)
    assert any(200 <= s < 300 for codes in seen.values() for s in codes)  # not only refusals


def _fuzz(operation: Any, url: str, headers: dict[str, str], seen: dict[str, set[int]]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: Any) -> None:
        response = case.call(base_url=url, headers=headers, timeout=60)
        where = (case.method, case.formatted_path, response.status_code, response.text[:300])
        assert response.status_code < 500, where
        assert "Traceback" not in response.text, where
        case.validate_response(response, checks=[content_type_conformance, response_schema_conformance])
        seen.setdefault(f"{case.method} {operation.path}", set()).add(response.status_code)

    check()
