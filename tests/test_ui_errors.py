"""What the UI says when it refuses, through the real server's Gradio queue: "please sign in" only
when nobody (or someone else) is signed in; an admin refusal gives its own reason; a question is
checked once, by the question service, and the UI says why in the browser's language."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from app.errors import AuthError, NotSignedIn, QuestionTooLong, ServiceUnavailable
from app.web.ui.errors import Failure, to_gr_error
from app.web.ui.i18n import service_text
from tests.fixtures.cli import run_app
from tests.fixtures.gradio_http import fn_index, run_event, signed_in
from tests.fixtures.server import ADMIN, RunningServer, running_server

BOB = ("bob", "bobs-long-password")
SIGN_IN = "Please sign in first."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("ui-errors") / "data") as srv:
        assert run_app(srv.data_dir, "users", "add", BOB[0], stdin=BOB[1] + "\n").returncode == 0
        yield srv


def admin_action(client: httpx.Client, elem_id: str, name: str, password: str = "") -> str | None:
    """Click one of the Admin tab's user buttons with the form filled in; the refusal, if any."""
    config = client.get("/config").json()
    button = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == elem_id)
    index = next(
        int(d.get("id", i))
        for i, d in enumerate(config["dependencies"])
        if [button, "click"] in [list(t) for t in d.get("targets", [])]
    )
    result = run_event(client, index, [name, password, False, ""])
    return None if result.success else result.error


def test_an_admin_refusal_shows_its_own_reason_not_sign_in(server: RunningServer) -> None:
    admin = signed_in(server, *ADMIN)
    assert admin_action(admin, "admin-add", "zed", "abcde") == "the password must have at least 8 characters"
    assert admin_action(admin, "admin-disable", ADMIN[0]) == "you cannot disable your own account"
    assert admin_action(admin, "admin-revoke", ADMIN[0]) == "you cannot take away your own admin rights"
    bob = signed_in(server, *BOB)
    assert admin_action(bob, "admin-add", "mallory", "mallorys-password") == "only administrators can do this"
    assert admin_action(admin, "admin-add", "zed", "zeds-long-password") is None  # the form itself works
    users = run_app(server.data_dir, "users", "list").stdout
    assert "zed" in users and "mallory" not in users


def test_only_nobody_signed_in_is_asked_to_sign_in() -> None:
    assert to_gr_error(NotSignedIn("not signed in"), None).message == SIGN_IN
    assert to_gr_error(AuthError("you cannot remove your own account"), None).message == (
        "you cannot remove your own account"
    )
    too_long = QuestionTooLong("the question is 12 characters long; at most 10 are accepted", length=12, limit=10)
    assert to_gr_error(too_long, None).message == (
        "Your question is 12 characters long; at most 10 are accepted. "
        "Please shorten it or ask about one part at a time."
    )


def test_an_empty_or_too_long_question_is_refused_in_the_users_language(server: RunningServer) -> None:
    bob = signed_in(server, *BOB)
    ask = fn_index(bob, "ask")
    empty = run_event(bob, ask, ["   ", [], None, []])
    assert (empty.success, empty.error) == (False, "Type a question first.")
    long = run_event(bob, ask, ["x" * 4001, [], None, []])
    assert (long.success, long.error) == (
        False,
        "Your question is 4001 characters long; at most 4000 are accepted. "
        "Please shorten it or ask about one part at a time.",
    )
    bob.headers["Accept-Language"] = "ja,en;q=0.5"
    assert run_event(bob, ask, ["", [], None, []]).error == "質問を入力してください。"
    assert run_event(bob, ask, ["x" * 4001, [], None, []]).error == (
        "質問が長すぎます（4001 文字、上限 4000 文字）。短くするか、部分ごとに質問してください。"
    )
    # Nothing was asked: no conversation was started for any of them.
    listed = run_event(bob, fn_index(bob, "conversations"), [1])
    assert listed.success and listed.output[0]["total"] == 0


def test_a_refusal_is_quiet_and_a_failure_carries_a_reference() -> None:
    """The user's doing: no traceback on the server, titled as a refusal. Something broken: a
    Failure with a reference (logged once here, so Gradio need not print it again)."""
    refusal = to_gr_error(AuthError("you cannot disable your own account"), None)
    assert not isinstance(refusal, Failure) and refusal.print_exception is False
    assert refusal.title == "Not possible"
    failure = to_gr_error(KeyError("missing"), None)
    assert isinstance(failure, Failure) and failure.print_exception is False
    assert re.search(r"\(ref [0-9a-f]{8}\)", failure.message), failure.message
    down = to_gr_error(ServiceUnavailable("the embedding model failed: HTTP 503"), None)
    assert isinstance(down, Failure) and down.message.startswith("the embedding model failed: HTTP 503. Please")


def test_admin_refusals_in_japanese() -> None:
    short = "the password must have at least 8 characters"
    assert service_text(short, "ja") == "パスワードは 8 文字以上にしてください。"
    assert service_text("you cannot disable your own account", "ja") == "自分のアカウントは無効にできません。"
    assert service_text("you cannot take away your own admin rights", "ja") == "自分の管理者権限は外せません。"
    unknown = "no such user: 'bo' (did you mean 'bob'?)"
    assert service_text(unknown, "ja") == "ユーザー「bo」はいません（「bob」のことですか？）。"
    assert service_text("you cannot disable your own account", "en") == "you cannot disable your own account"
    assert service_text("something new", "ja") == "something new"  # untranslated: as it is
