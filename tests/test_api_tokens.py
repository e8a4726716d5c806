"""Personal access tokens (issue 30): made, listed and revoked by the service and by
`python -m app tokens ...`, stored only as a keyed hash, refused at once when revoked, expired or
their user is disabled or removed (on SQLite and PostgreSQL, and from another instance's service),
audited; and over HTTP, against a running server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update

from app.auth.tokens import TokenRefused, TokenService, effective_scopes, parse_expiry
from app.auth.users import UserService
from app.errors import AuthError, NotFound
from app.storage.access_tokens import AccessToken
from app.storage.db import Database, utcnow
from tests.fixtures.api import ApiWorld, create_token
from tests.fixtures.cli import run_app


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.create_all()
    users = UserService(database)
    users.add("alice", "password-alice")
    users.add("bob", "password-bob")
    yield database
    database.close()


def test_a_token_is_shown_once_and_stored_only_as_a_keyed_hash(db: Database) -> None:
    tokens = TokenService(db)
    made = tokens.create("alice", "ask", "90d", name="my script")
    assert made.token.startswith("pdfqa_") and len(made.token) == 49
    assert made.info.prefix == made.token[:12] and made.info.scopes == ["ask"]
    assert made.info.expires_at - utcnow() > timedelta(days=89, hours=23)
    with db.engine.connect() as conn:
        dump = json.dumps([list(r) for r in conn.execute(select(AccessToken.__table__)).all()], default=str)
    assert made.token not in dump and made.token[12:] not in dump  # only the prefix is kept readable
    listed = tokens.list("alice")
    assert [t.id for t in listed] == [made.info.id]
    assert made.token not in listed[0].model_dump_json()
    user = tokens.authenticate(made.token)
    assert (user.username, user.scopes) == ("alice", frozenset({"ask", "read"}))


def test_revocation_counts_at_once_on_another_instance(db: Database) -> None:
    """Two services on one database stand for two instances: no cache outlives a revocation."""
    here, there = TokenService(db), TokenService(db)
    made = here.create("alice", ["read", "write"])
    assert there.authenticate(made.token).username == "alice"
    here.revoke(made.info.prefix, actor="alice", owner="alice")
    with pytest.raises(TokenRefused, match="revoked"):
        there.authenticate(made.token)
    assert there.list("alice")[0].revoked_at is not None


def test_expired_unknown_and_malformed_tokens_are_refused(db: Database) -> None:
    tokens = TokenService(db)
    made = tokens.create("alice", "read", "1h")
    with db.session() as s:
        s.execute(update(AccessToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(TokenRefused, match="expired"):
        tokens.authenticate(made.token)
    for bad in (None, "", "pdfqa_short", made.token[:-1] + ("A" if made.token[-1] != "A" else "B"), "x" * 5000):
        with pytest.raises(TokenRefused):
            tokens.authenticate(bad)


def test_disabling_a_user_revokes_their_tokens_for_good_and_removal_deletes_them(db: Database) -> None:
    tokens, users = TokenService(db), UserService(db)
    a = tokens.create("alice", "ask")
    b = tokens.create("bob", "ask")
    users.set_disabled("alice", True)
    with pytest.raises(TokenRefused):
        tokens.authenticate(a.token)
    users.set_disabled("alice", False)
    with pytest.raises(TokenRefused, match="revoked"):  # enabling again does not revive it
        tokens.authenticate(a.token)
    users.set_disabled("bob", True)
    with pytest.raises(AuthError, match="disabled"):  # no new token for a disabled user
        tokens.create("bob", "ask")
    users.set_disabled("bob", False)
    users.remove("bob")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM access_tokens WHERE id = :i"), {"i": b.info.id}).scalar() == 0


def test_users_revoke_only_their_own_and_admins_anyone(db: Database) -> None:
    tokens = TokenService(db)
    mine = tokens.create("alice", "read")
    theirs = tokens.create("bob", "read")
    with pytest.raises(NotFound):
        tokens.revoke(theirs.info.id, actor="alice", owner="alice")
    tokens.authenticate(theirs.token)
    tokens.revoke(theirs.info.id, actor="admin")  # an administrator: any user's
    assert {t.user for t in tokens.list()} == {"alice", "bob"}
    assert tokens.authenticate(mine.token).username == "alice"


def test_scopes_and_expiry_are_checked() -> None:
    assert effective_scopes("read") == {"read"}
    assert effective_scopes("write") == {"read", "write"}
    assert parse_expiry("90d") == timedelta(days=90) and parse_expiry("12h") == timedelta(hours=12)
    for bad in ("0d", "999d", "never", "90", "-1d", "1w"):
        with pytest.raises(AuthError):
            parse_expiry(bad)
    from app.auth.tokens import parse_scopes

    assert parse_scopes("write,read") == ["read", "write"]
    for bad in ("admin", "", "read,everything"):
        with pytest.raises(AuthError):
            parse_scopes(bad)


# ---- the CLI and HTTP, against a running server ---------------------------------------------


def _audit(data_dir: Path) -> list[dict[str, object]]:
    lines = (data_dir / "logs" / "audit.log").read_text().splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def test_cli_create_list_revoke_and_the_server_refuses_at_once(api_world: ApiWorld) -> None:
    data_dir = api_world.server.data_dir
    token = create_token(data_dir, "alice", "read", expires="30d")
    with api_world.client(token) as c:
        assert c.get("/api/v1/documents").status_code == 200
        listed = run_app(data_dir, "tokens", "list", "--user", "alice")
        assert listed.returncode == 0 and token not in listed.stdout
        row = next(line.split("\t") for line in listed.stdout.splitlines() if line.split("\t")[1] == token[:12])
        assert row[2:5] == ["alice", "read", "active"]
        revoked = run_app(data_dir, "tokens", "revoke", token[:12])
        assert revoked.returncode == 0, revoked.stderr
        r = c.get("/api/v1/documents")
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        assert "revoked" in r.json()["error"]["message"]
        assert r.headers["www-authenticate"].startswith("Bearer")
    listed = run_app(data_dir, "tokens", "list")
    assert "\trevoked\t" in listed.stdout and "bob" in listed.stdout
    events = _audit(data_dir)
    assert any(e["event"] == "token.created" and e.get("token") == token[:12] for e in events)
    assert any(e["event"] == "token.revoked" and e.get("token") == token[:12] for e in events)
    assert token not in (data_dir / "logs" / "audit.log").read_text()
    assert token not in api_world.server.log()


def test_expired_and_disabled_users_tokens_are_refused_over_http(api_world: ApiWorld) -> None:
    data_dir = api_world.server.data_dir
    expiring = create_token(data_dir, "bob", "read", expires="1h")
    db = Database(f"sqlite:///{data_dir / 'app.db'}")
    try:
        with db.session() as s:
            s.execute(
                update(AccessToken)
                .where(AccessToken.prefix == expiring[:12])
                .values(expires_at=utcnow() - timedelta(minutes=1))
            )
    finally:
        db.close()
    with api_world.client(expiring) as c:
        r = c.get("/api/v1/usage")
        assert r.status_code == 401 and "expired" in r.json()["error"]["message"]
    from tests.fixtures.api import add_user

    add_user(data_dir, "dora")
    token = create_token(data_dir, "dora", "ask")
    with api_world.client(token) as c:
        assert c.get("/api/v1/usage").status_code == 200
        assert run_app(data_dir, "users", "disable", "dora").returncode == 0
        assert c.get("/api/v1/usage").status_code == 401
        assert run_app(data_dir, "users", "enable", "dora").returncode == 0
        assert c.get("/api/v1/usage").status_code == 401  # revoked for good


def test_cli_refuses_bad_input_in_one_line(api_world: ApiWorld) -> None:
    data_dir = api_world.server.data_dir
    for args in (
        ("tokens", "create", "--user", "alice", "--scope", "admin"),
        ("tokens", "create", "--user", "alice", "--scope", "ask", "--expires", "never"),
        ("tokens", "create", "--user", "nobody", "--scope", "ask"),
        ("tokens", "revoke", "no-such-token"),
    ):
        done = run_app(data_dir, *args)
        assert done.returncode != 0 and done.stdout == "", args
        assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr, done.stderr


# ---- Settings > Access tokens -----------------------------------------------------------------


def test_settings_section_makes_lists_and_revokes_only_ones_own(db: Database) -> None:
    import gradio as gr

    from app.config import AuthSettings
    from app.web.ui.session import signed_in_user
    from app.web.ui.settings_page import TokensSection

    service = TokenService(db)
    bobs = service.create("bob", "read")
    section = TokensSection(service, signed_in_user(AuthSettings()))
    with gr.Blocks():
        section.render()

    def request(lang: str) -> gr.Request:
        return gr.Request(username="alice", headers={"accept-language": lang})

    made = section.make("laptop", ["ask"], "30d", request("en"))
    token = made[section.new_token]
    assert service.authenticate(token).username == "alice"  # the token shown once is a live one
    assert "Copy it now" in made[section.status]
    table = made[section.table]
    assert list(table.columns)[:2] == ["id", "prefix"]
    assert table.values.tolist()[0][1:5] == [token[:12], "laptop", "ask", "active"]
    assert token not in table.to_csv()  # the list never shows a token
    ja = section.listing(request("ja"))
    assert list(ja.columns)[4] == "状態" and ja.values.tolist()[0][4] == "有効"
    assert bobs.info.prefix not in ja.to_csv()  # only alice's own
    with pytest.raises(gr.Error):  # bob's token is not alice's to revoke
        section.end(bobs.info.id, request("en"))
    assert service.authenticate(bobs.token).username == "bob"
    done = section.end(token[:12], request("ja"))
    assert "失効" in done[section.status]
    with pytest.raises(TokenRefused, match="revoked"):
        service.authenticate(token)
    with pytest.raises(gr.Error):
        section.make("x", [], "30d", request("en"))


# ---- refused tokens in the audit log ------------------------------------------------------------


def _audited(sink: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(m.record["extra"]["audit_line"]) for m in sink if m.record["extra"].get("audit")]


def test_refused_tokens_are_audited_by_prefix_and_bounded(db: Database) -> None:
    """Each refusal is audited with the visible prefix alone (never the secret part, nothing of a
    string that is not one of ours), once per prefix and client per minute with the repeats
    counted, and at most `per_window` lines a minute in all."""
    from loguru import logger

    from app.auth.tokens import RefusalAudit

    now = [1000.0]
    tokens = TokenService(db, RefusalAudit(window_s=60, per_window=3, clock=lambda: now[0]))
    made = tokens.create("alice", "read")
    tokens.revoke(made.info.id, actor="alice")
    unknown = "pdfqa_" + "Q" * 43
    sink: list[Any] = []
    handler = logger.add(sink.append, level="INFO")
    try:
        for _ in range(5):
            for bad, client in ((unknown, "10.0.0.1"), (made.token, "10.0.0.1"), ("sk-live-secret-123", "10.0.0.2")):
                with pytest.raises(TokenRefused):
                    tokens.authenticate(bad, client)
        first = _audited(sink)
        now[0] += 61
        with pytest.raises(TokenRefused):
            tokens.authenticate(unknown, "10.0.0.1")
        for n in range(10):  # many prefixes in one minute: the cap holds
            with pytest.raises(TokenRefused):
                tokens.authenticate(f"pdfqa_{n:06d}" + "Z" * 37, "10.0.0.3")
        now[0] += 61
        with pytest.raises(TokenRefused):
            tokens.authenticate("pdfqa_later0" + "Z" * 37, "10.0.0.3")
    finally:
        logger.remove(handler)
    everything = json.dumps(_audited(sink))
    assert made.token[12:] not in everything and unknown[12:] not in everything and "sk-live" not in everything
    assert [(e["event"], e["outcome"], e["token"], e["reason"], e["client"]) for e in first] == [
        ("token.refused", "failed", unknown[:12], "unknown", "10.0.0.1"),
        ("token.refused", "failed", made.info.prefix, "revoked", "10.0.0.1"),
        ("token.refused", "failed", "-", "malformed", "10.0.0.2"),
    ]
    assert first[1]["target"] == "alice" and "repeats" not in first[0]
    later = _audited(sink)[3:]
    assert later[0]["token"] == unknown[:12] and later[0]["repeats"] == 4  # the four left out before
    assert len(later) == 1 + 2 + 1  # the cap of 3 a minute: the repeat and two new prefixes, then a minute on
    assert later[-1]["unaudited"] == 8  # what the cap left out, said by the next line
