"""The REST API under /api/v1 (issue 30), over real HTTP against `python -m app serve`: no route
answers without a token; a token of alice never reaches bob's documents, pages, jobs or
conversations; scopes; ask as JSON and as Server-Sent Events through the same ChatService (quotas
answered 429 with the limit and reset time); errors as JSON with the request id, never a traceback;
uploads and deletions audited with the request id; the per-token rate limit; the OpenAPI schema."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx
import pytest

from tests.fixtures.api import ApiWorld, add_user, create_token, upload_and_wait
from tests.fixtures.cli import run_app
from tests.fixtures.llm_server import FakeOpenAIServer, default_reply
from tests.fixtures.pdf_factory import text_pdf


@pytest.fixture
def world(api_world: ApiWorld, llm_server: FakeOpenAIServer) -> ApiWorld:
    llm_server.reply_fn = default_reply
    return api_world


def _audit(world: ApiWorld) -> list[dict[str, Any]]:
    text = (world.server.data_dir / "logs" / "audit.log").read_text()
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _sse(body: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in body.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append((fields.get("event", ""), json.loads(fields.get("data", "{}"))))
    return events


def _concrete(path: str, world: ApiWorld) -> str:
    values = {"document_id": world.documents["alice"], "page": "1", "job_id": "1", "conversation_id": "x"}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x"), path)


def test_no_route_answers_without_a_live_token(world: ApiWorld) -> None:
    with world.client(None) as anonymous:
        schema = anonymous.get("/api/v1/openapi.json").json()
        routes = [(m.upper(), p) for p, item in schema["paths"].items() for m in item]
        assert len(routes) >= 12, routes
        assert {("POST", "/api/v1/ask"), ("POST", "/v1/chat/completions"), ("GET", "/v1/models")} <= set(routes)
        for bearer in (None, "pdfqa_" + "A" * 43, "not-a-token"):
            headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
            for method, path in routes:
                r = anonymous.request(method, _concrete(path, world), headers=headers, json={})
                assert r.status_code == 401, (method, path, r.status_code, r.text)
                assert r.json()["error"]["code"] == "unauthorized"
                assert r.headers["content-type"] == "application/json"


def test_alices_token_never_reaches_bobs_documents_pages_jobs_or_conversations(world: ApiWorld) -> None:
    bob_doc = world.documents["bob"]
    with world.client(world.tokens["bob:ask"]) as bob:
        asked = bob.post("/api/v1/ask", json={"question": "Where is the falcon launch code kept?"})
        assert asked.status_code == 200, asked.text
        bob_conversation = asked.json()["conversation_id"]
        bob_jobs = [j["id"] for j in bob.get("/api/v1/jobs").json()["jobs"]]
        assert bob_jobs and bob.get(f"/api/v1/documents/{bob_doc}/pages/1").status_code == 200
    with world.client(world.tokens["alice:write"]) as alice:
        listed = alice.get("/api/v1/documents").json()
        assert [d["id"] for d in listed["documents"]] == [world.documents["alice"]] and listed["total"] == 1
        for path in (
            f"/api/v1/documents/{bob_doc}",
            f"/api/v1/documents/{bob_doc}/pages/1",
            f"/api/v1/conversations/{bob_conversation}",
            *(f"/api/v1/jobs/{j}" for j in bob_jobs),
        ):
            r = alice.get(path)
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", (path, r.text)
        assert alice.delete(f"/api/v1/documents/{bob_doc}").status_code == 404
        assert bob_conversation not in alice.get("/api/v1/conversations").text
        assert all(j["id"] not in bob_jobs for j in alice.get("/api/v1/jobs").json()["jobs"])
    with world.client(world.tokens["alice:ask"]) as alice:
        # Asking with bob's document named, or about what only bob's document says, finds nothing of his.
        for body in (
            {"question": "Where is the falcon launch code kept?", "document_ids": [bob_doc]},
            {"question": "Where is the falcon launch code kept?"},
        ):
            r = alice.post("/api/v1/ask", json=body)
            assert r.status_code == 200, r.text
            assert all(c["doc_id"] != bob_doc and c["file"] != "falcon.pdf" for c in r.json()["citations"])
            assert "cabinet" not in r.json()["answer"]
        r = alice.post("/api/v1/ask", json={"question": "What is next?", "conversation_id": bob_conversation})
        assert r.status_code == 404
    with world.client(world.tokens["bob:read"]) as bob:
        assert bob.get(f"/api/v1/documents/{bob_doc}").json()["status"] == "ready"  # still there
        assert bob.get(f"/api/v1/conversations/{bob_conversation}").status_code == 200


def test_read_cannot_upload_ask_or_delete_and_ask_cannot_upload(world: ApiWorld, tmp_path: Any) -> None:
    pdf = text_pdf(tmp_path, ["A page about nothing in particular."], name="scope.pdf")
    doc = world.documents["alice"]
    with world.client(world.tokens["alice:read"]) as reader:
        assert reader.get("/api/v1/documents").status_code == 200
        assert reader.get("/v1/models").status_code == 200
        refusals = [
            reader.post("/api/v1/documents", files={"file": ("scope.pdf", pdf.read_bytes(), "application/pdf")}),
            reader.post("/api/v1/ask", json={"question": "What is the budget?"}),
            reader.delete(f"/api/v1/documents/{doc}"),
            reader.post(
                "/v1/chat/completions", json={"model": "my-documents", "messages": [{"role": "user", "content": "hi"}]}
            ),
        ]
    with world.client(world.tokens["alice:ask"]) as asker:
        refusals.append(
            asker.post("/api/v1/documents", files={"file": ("scope.pdf", pdf.read_bytes(), "application/pdf")})
        )
        refusals.append(asker.delete(f"/api/v1/documents/{doc}"))
    for r in refusals:
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "insufficient_scope"
    with world.client(world.tokens["alice:read"]) as reader:
        assert reader.get(f"/api/v1/documents/{doc}").json()["status"] == "ready"
        names = [d["name"] for d in reader.get("/api/v1/documents").json()["documents"]]
        assert "scope.pdf" not in names


def test_ask_as_json_and_as_server_sent_events_with_citations(world: ApiWorld) -> None:
    with world.client(world.tokens["alice:ask"]) as alice:
        r = alice.post("/api/v1/ask", json={"question": "What is the zebra project budget?"})
        assert r.status_code == 200, r.text
        answer = r.json()
        assert answer["mode"] == "generated" and answer["answer"]
        assert answer["citations"] and answer["citations"][0]["file"] == "zebra.pdf"
        assert answer["citations"][0]["doc_id"] == world.documents["alice"]
        assert answer["usage"]["prompt_tokens"] > 0
        conversation = alice.get(f"/api/v1/conversations/{answer['conversation_id']}").json()
        assert [m["role"] for m in conversation["messages"]] == ["user", "assistant"]
        assert conversation["messages"][1]["content"] == answer["answer"]
        # A follow-up in the same conversation, streamed.
        body = {"question": "Who leads it?", "conversation_id": answer["conversation_id"], "stream": True}
        with alice.stream("POST", "/api/v1/ask", json=body) as streamed:
            assert streamed.status_code == 200
            assert streamed.headers["content-type"].startswith("text/event-stream")
            events = _sse(streamed.read().decode())
        kinds = [k for k, _ in events]
        assert kinds[0] == "delta" and kinds[-2:] == ["answer", "done"], kinds
        final = events[-2][1]
        assert "".join(d["text"] for k, d in events if k == "delta") == final["answer"]
        assert final["conversation_id"] == answer["conversation_id"] and final["citations"]
        listed = alice.get("/api/v1/conversations").json()
        assert answer["conversation_id"] in [c["id"] for c in listed["conversations"]]
        assert len(alice.get(f"/api/v1/conversations/{answer['conversation_id']}").json()["messages"]) == 4
        usage = alice.get("/api/v1/usage").json()
        assert {"questions_per_day", "tokens_per_day"} <= {x["key"] for x in usage["limits"]}
        assert usage["prompt_tokens"] > 0


def test_quotas_are_the_web_apps_and_answer_429_with_limit_and_reset(world: ApiWorld, tmp_path: Any) -> None:
    data_dir = world.server.data_dir
    add_user(data_dir, "carol")
    assert run_app(data_dir, "quotas", "set", "carol", "--questions-per-day", "1").returncode == 0
    token = create_token(data_dir, "carol", "write", "ask")
    with world.client(token) as carol:
        upload_and_wait(carol, text_pdf(tmp_path, ["Owl notes. The owl sleeps by day."], name="owl.pdf"))
        assert carol.post("/api/v1/ask", json={"question": "When does the owl sleep?"}).status_code == 200
        for body in ({"question": "Again?"}, {"question": "Again?", "stream": True}):
            r = carol.post("/api/v1/ask", json=body)
            assert r.status_code == 429, r.text
            error = r.json()["error"]
            assert error["code"] == "quota_exceeded" and error["limit"] == "questions_per_day"
            assert error["limit_value"] == 1 and error["resets_at"].endswith("Z")
            assert int(r.headers["retry-after"]) > 0
        used = {x["key"]: x for x in carol.get("/api/v1/usage").json()["limits"]}["questions_per_day"]
        assert (used["used"], used["limit"]) == (1, 1)


JSON = {"content-type": "application/json"}


def test_errors_are_json_with_the_request_id_and_never_a_traceback(world: ApiWorld) -> None:
    with world.client(world.tokens["alice:all"]) as alice:
        cases = [
            (alice.post("/api/v1/ask", content=b"{not json", headers={"content-type": "application/json"}), 422),
            (alice.post("/api/v1/ask", json={"question": "x", "unknown": 1}), 422),
            (alice.post("/api/v1/ask", json={"question": "   "}), 400),
            (alice.get("/api/v1/no-such-route"), 404),
            (alice.get("/api/v1/documents", params={"limit": "many"}), 422),
            (alice.get("/api/v1/documents/" + "x" * 5000), 404),
            (alice.post("/api/v1/documents", files={"file": ("notes.txt", b"hello", "text/plain")}), 415),
            (alice.post("/api/v1/documents", files={"file": ("fake.pdf", b"hello world", "application/pdf")}), 415),
            (alice.post("/api/v1/ask", content=b"{" + b" " * 1_100_000 + b"}", headers=JSON), 413),
        ]
    for r, status in cases:
        assert r.status_code == status, (status, r.text)
        error = r.json()["error"]
        assert set(error) >= {"code", "message"} and error["message"]
        assert "Traceback" not in r.text and 'File "' not in r.text
        if status != 413:
            assert error["request_id"] == r.headers["x-request-id"]
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"
    assert "Traceback" not in world.server.log()


def test_upload_progress_delete_and_audit_share_the_request_id(world: ApiWorld, tmp_path: Any) -> None:
    pdf = text_pdf(tmp_path, ["Heron notes. The heron count was 31 birds in March."], name="heron.pdf")
    with world.client(world.tokens["alice:write"]) as alice:
        r = alice.post("/api/v1/documents", files={"file": ("heron.pdf", pdf.read_bytes(), "application/pdf")})
        assert r.status_code == 202, r.text
        upload_id, job = r.headers["x-request-id"], r.json()
        deadline = time.monotonic() + 60
        while not job["finished"]:
            assert time.monotonic() < deadline
            time.sleep(0.3)
            job = alice.get(f"/api/v1/jobs/{job['id']}").json()
        assert job["stage"] == "done" and job["file"] == "heron.pdf"
        doc = next(d for d in alice.get("/api/v1/documents").json()["documents"] if d["name"] == "heron.pdf")
        assert doc["status"] == "ready" and doc["pages"] == 1 and doc["chunks"] >= 1
        image = alice.get(f"/api/v1/documents/{doc['id']}/pages/1")
        assert (
            image.status_code == 200 and image.headers["content-type"] == "image/webp" and image.content[:4] == b"RIFF"
        )
        assert alice.get(f"/api/v1/documents/{doc['id']}/pages/2").status_code == 404
        # The same bytes under another name: not added, and the job names the document that has them.
        r = alice.post("/api/v1/documents", files={"file": ("copy.pdf", pdf.read_bytes(), "application/pdf")})
        twin = r.json()
        while not twin["finished"]:
            assert time.monotonic() < deadline
            time.sleep(0.3)
            twin = alice.get(f"/api/v1/jobs/{twin['id']}").json()
        assert (twin["stage"], twin["message"], twin["duplicate_of"]) == ("done", "unchanged", "heron.pdf")
        assert job["duplicate_of"] is None
        assert "copy.pdf" not in [d["name"] for d in alice.get("/api/v1/documents").json()["documents"]]
        deleted = alice.delete(f"/api/v1/documents/{doc['id']}")
        assert deleted.status_code == 204
        assert alice.get(f"/api/v1/documents/{doc['id']}").status_code == 404
    events = _audit(world)
    uploaded = [e for e in events if e["event"] == "document.uploaded" and e.get("name") == "heron.pdf"]
    assert uploaded and uploaded[-1]["request_id"] == upload_id and uploaded[-1]["actor"] == "alice"
    assert uploaded[-1]["token"] == world.tokens["alice:write"][:12]
    gone = [e for e in events if e["event"] == "document.deleted" and e.get("name") == "heron.pdf"]
    assert gone and gone[-1]["request_id"] == deleted.headers["x-request-id"]
    assert (
        f"request_id={upload_id}" in world.server.log()
        or upload_id in (world.server.data_dir / "logs" / "app.log").read_text()
    )


def test_each_token_has_its_own_rate_limit(world: ApiWorld) -> None:
    data_dir = world.server.data_dir
    busy, other = create_token(data_dir, "bob", "read"), create_token(data_dir, "bob", "read")
    with world.client(busy) as c:
        codes = [c.get("/v1/models").status_code for _ in range(125)]
        assert codes[:120] == [200] * 120 and set(codes[120:]) == {429}
        r = c.get("/v1/models")
        assert r.json()["error"]["code"] == "rate_limited" and int(r.headers["retry-after"]) >= 1
    with world.client(other) as c:
        assert c.get("/v1/models").status_code == 200


def test_openapi_schema_and_docs_page(world: ApiWorld) -> None:
    with httpx.Client(base_url=world.url) as c:
        schema = c.get("/api/v1/openapi.json")
        assert schema.status_code == 200 and schema.json()["info"]["title"] == "PDF Q&A API"
        docs = c.get("/api/v1/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        assert c.get("/openapi.json").status_code == 404  # the web app's own stays closed


def test_one_user_has_at_most_max_queued_per_user_questions_running(
    world: ApiWorld, llm_server: FakeOpenAIServer
) -> None:
    """server.max_queued_per_user (3 here) bounds one user's questions in flight through both doors;
    each slot is given back when its answer ends, streamed or not."""
    from concurrent.futures import ThreadPoolExecutor

    def ask(stream: bool) -> httpx.Response:
        with world.client(world.tokens["bob:ask"]) as bob:
            return bob.post("/api/v1/ask", json={"question": "Where is the falcon code kept?", "stream": stream})

    llm_server.latency = 2.0
    try:
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(ask, [False, True, False, True]))
    finally:
        llm_server.latency = 0.0
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200, 200, 200, 429], [r.text[:200] for r in answers]
    refused = next(r for r in answers if r.status_code == 429)
    assert refused.json()["error"]["code"] == "too_many_requests"
    with ThreadPoolExecutor(3) as pool:  # every slot was given back
        assert [r.status_code for r in pool.map(ask, [True, False, True])] == [200, 200, 200]
