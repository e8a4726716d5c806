"""Team libraries through the API (issues 30 and 31): `?library=` on the documents and jobs routes,
a library's pages for its members, `library:<name>` models on the OpenAI-compatible door; an editor
uploads and deletes, a reader reads and asks, a non-member gets "not found" from every route, and
leaving the group ends access at the next request."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from tests.fixtures.api import ApiWorld, add_user
from tests.fixtures.cli import run_app
from tests.fixtures.llm_server import FakeOpenAIServer, default_reply
from tests.fixtures.pdf_factory import text_pdf

LAB_TEXT = ["Otter lab. The otter lab keeps its samples in freezer number seventeen."]


@pytest.fixture
def lab(api_world: ApiWorld, llm_server: FakeOpenAIServer, tmp_path: Path) -> Iterator[tuple[ApiWorld, str]]:
    """carol edits the Lab library, dave reads it, erin is in no group; one PDF uploaded by carol."""
    data = api_world.server.data_dir
    for user in ("lab-carol", "lab-dave", "lab-erin"):
        add_user(data, user)
    assert run_app(data, "groups", "add", "Lab").returncode == 0
    assert run_app(data, "groups", "add-member", "Lab", "lab-carol", "--role", "editor").returncode == 0
    assert run_app(data, "groups", "add-member", "Lab", "lab-dave").returncode == 0
    llm_server.reply_fn = lambda messages: default_reply(messages) + " [1]"
    with api_world.client(api_world.token("lab-carol", "write")) as carol:
        pdf = text_pdf(tmp_path, LAB_TEXT, name="otters.pdf")
        with open(pdf, "rb") as f:
            r = carol.post("/api/v1/documents?library=Lab", files={"file": (pdf.name, f, "application/pdf")})
        assert r.status_code == 202, r.text
        job = r.json()
        deadline = time.monotonic() + 120
        while not job["finished"]:
            assert time.monotonic() < deadline, job
            time.sleep(0.5)
            job = carol.get(f"/api/v1/jobs/{job['id']}", params={"library": "Lab"}).json()
        assert job["stage"] == "done", job
        docs = carol.get("/api/v1/documents", params={"library": "lab"}).json()["documents"]
        assert [d["name"] for d in docs] == ["otters.pdf"]
        assert carol.get("/api/v1/documents").json()["documents"] == []  # not in her own documents
    yield api_world, docs[0]["id"]
    llm_server.reply_fn = default_reply
    run_app(data, "groups", "remove-member", "Lab", "lab-dave")
    run_app(data, "groups", "remove-member", "Lab", "lab-carol")


def _sdk(world: ApiWorld, token: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{world.url}/v1", api_key=token, max_retries=0, timeout=60)


def test_members_and_a_non_member_through_the_api(lab: tuple[ApiWorld, str]) -> None:
    world, doc_id = lab
    dave_read, dave_ask = world.token("lab-dave", "read", "write"), world.token("lab-dave", "ask")
    erin_read, erin_ask = world.token("lab-erin", "read", "write"), world.token("lab-erin", "ask")

    with world.client(dave_read) as dave:
        assert [d["name"] for d in dave.get("/api/v1/documents?library=Lab").json()["documents"]] == ["otters.pdf"]
        assert dave.get(f"/api/v1/documents/{doc_id}").json()["name"] == "otters.pdf"
        image = dave.get(f"/api/v1/documents/{doc_id}/pages/1")
        assert image.status_code == 200 and image.headers["content-type"] == "image/webp"
        refused = dave.delete(f"/api/v1/documents/{doc_id}")  # a reader does not delete
        assert refused.status_code == 404
        upload = dave.post("/api/v1/documents?library=Lab", files={"file": ("x.pdf", b"%PDF-1.4\n", "application/pdf")})
        assert upload.status_code == 404 and "reader" in upload.json()["error"]["message"]

    sdk = _sdk(world, dave_ask)
    assert [m.id for m in sdk.models.list()] == ["my-documents", "library:Lab"]
    done = sdk.chat.completions.create(
        model="library:Lab", messages=[{"role": "user", "content": "Where does the otter lab keep its samples?"}]
    )
    citations = (done.model_extra or {})["citations"]
    assert done.model == "library:Lab" and citations and citations[0]["file"] == "otters.pdf"
    assert citations[0]["library"] == "Lab"
    own = sdk.chat.completions.create(
        model="my-documents", messages=[{"role": "user", "content": "Where does the otter lab keep its samples?"}]
    )
    assert not (own.model_extra or {})["citations"]  # his own documents: none

    # erin, in no group: "not found" everywhere, nothing of the library's names or counts.
    with world.client(erin_read) as erin:
        for response in (
            erin.get("/api/v1/documents?library=Lab"),
            erin.get(f"/api/v1/documents/{doc_id}"),
            erin.get(f"/api/v1/documents/{doc_id}/pages/1"),
            erin.delete(f"/api/v1/documents/{doc_id}"),
            erin.get("/api/v1/jobs?library=Lab"),
        ):
            assert response.status_code == 404, (response.request.url, response.text)
            assert "otters" not in response.text
        asked = erin.post("/api/v1/ask", json={"question": "otter samples", "document_ids": [doc_id]})
        assert "otters" not in asked.text
    erin_sdk = _sdk(world, erin_ask)
    assert [m.id for m in erin_sdk.models.list()] == ["my-documents"]
    with pytest.raises(openai.NotFoundError):
        erin_sdk.chat.completions.create(model="library:Lab", messages=[{"role": "user", "content": "otters?"}])

    # dave leaves the group: the next request is refused, on the REST routes and the OpenAI door.
    assert run_app(world.server.data_dir, "groups", "remove-member", "Lab", "lab-dave").returncode == 0
    with world.client(dave_read) as dave:
        assert dave.get(f"/api/v1/documents/{doc_id}/pages/1").status_code == 404
        assert dave.get("/api/v1/documents?library=Lab").status_code == 404
    with pytest.raises(openai.NotFoundError):
        sdk.chat.completions.create(model="library:Lab", messages=[{"role": "user", "content": "otters?"}])

    # The editor deletes the library's document.
    with world.client(world.token("lab-carol", "write")) as c:
        assert c.delete(f"/api/v1/documents/{doc_id}").status_code == 204
        assert c.get("/api/v1/documents?library=Lab").json()["documents"] == []
