"""The admin console's service: users and their use, system state, recent errors and the audit
log. Every action checks that the caller is an admin (the UI hides the tab too, but that is not a
check) and is audited with the admin as actor. The CLI offers the same actions (`users`, `documents`,
`quotas`, `backup`, `reindex`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import SecretStr

from app import audit as audit_log
from app.admin.accounts import AccountService, RemovalPlan, removal_text
from app.admin.recent_errors import RecentErrors
from app.audit import audit
from app.auth.users import UserService
from app.clean import clean_line
from app.config import Settings
from app.documents.registry import DocumentRegistry
from app.errors import AuthError
from app.storage.index_state import IndexStateStore

USER_HEADERS = ["user", "admin", "disabled", "created", "documents", "pages", "storage MB"]


class AdminConsole:
    def __init__(
        self,
        settings: Settings,
        users: UserService,
        accounts: AccountService,
        registry: DocumentRegistry,
        index_states: IndexStateStore,
        checks: dict[str, Callable[[], None]],
        errors: RecentErrors,
        audit_file: Path,
    ) -> None:
        self._settings = settings
        self._users = users
        self._accounts = accounts
        self._registry = registry
        self._index_states = index_states
        self._checks = checks
        self._errors = errors
        self._audit_file = audit_file
        self._started = time.time()

    def is_admin(self, user: str) -> bool:
        try:
            info = self._users.get(user)
        except Exception:
            return False
        return info.is_admin and not info.disabled

    def require_admin(self, user: str) -> None:
        if not self.is_admin(user):
            raise AuthError("only administrators can do this")

    # ---- users --------------------------------------------------------------------------------

    def users_table(self, actor: str) -> list[list[Any]]:
        self.require_admin(actor)
        rows = []
        totals = self._registry.totals_by_owner()  # one query, not every document of every user
        for u in self._users.list():
            count, pages, size = totals.get(u.username, (0, 0, 0))
            rows.append(
                [
                    u.username,
                    "yes" if u.is_admin else "",
                    "yes" if u.disabled else "",
                    f"{u.created_at:%Y-%m-%d}",
                    count,
                    pages,
                    round(size / 1048576, 1),
                ]
            )
        return rows

    def add_user(self, actor: str, name: str, password: str, admin: bool, client: str | None = None) -> None:
        self.require_admin(actor)
        info = self._users.add(name.strip(), password, is_admin=admin)
        audit("user.created", actor, target=info.username, client=client, admin=admin)

    def set_disabled(self, actor: str, name: str, disabled: bool, client: str | None = None) -> None:
        self.require_admin(actor)
        if disabled and name == actor:
            raise AuthError("you cannot disable your own account")
        self._users.set_disabled(name, disabled)
        audit("user.changed", actor, target=name, client=client, change="disabled" if disabled else "enabled")

    def reset_password(self, actor: str, name: str, password: str, client: str | None = None) -> None:
        self.require_admin(actor)
        self._users.set_password(name, password)
        audit("user.changed", actor, target=name, client=client, change="password")

    def set_admin(self, actor: str, name: str, admin: bool, client: str | None = None) -> None:
        self.require_admin(actor)
        if not admin and name == actor:
            raise AuthError("you cannot take away your own admin rights")
        self._users.set_admin(name, admin)
        audit("user.changed", actor, target=name, client=client, change="admin" if admin else "not admin")

    def removal_plan(self, actor: str, name: str, transfer_to: str | None) -> RemovalPlan:
        """What `remove_user` would delete or hand over (nothing is changed), for its confirmation."""
        self.require_admin(actor)
        if name == actor:
            raise AuthError("you cannot remove your own account")
        return self._accounts.plan(name, transfer_to or None)

    def remove_user(self, actor: str, name: str, transfer_to: str | None, client: str | None = None) -> str:
        self.require_admin(actor)
        if name == actor:
            raise AuthError("you cannot remove your own account")
        done = self._accounts.remove(name, transfer_to=transfer_to or None)
        audit("user.removed", actor, target=name, client=client, transferred_to=transfer_to or None)
        return removal_text(done, transfer_to or None)

    # ---- system -------------------------------------------------------------------------------

    def system(self, actor: str) -> dict[str, Any]:
        self.require_admin(actor)
        from app import app_version

        states = {}
        for name, check in self._checks.items():
            try:
                check()
                states[name] = "ok"
            except Exception as e:  # the state of each part, never its exception text
                states[name] = f"not answering ({type(e).__name__})"
        index = self._index_states.get(self._settings.qdrant.collection)
        return {
            "version": app_version(),
            "uptime_s": int(time.time() - self._started),
            "services": states,
            "embedding_model": self._settings.embeddings.model,
            "index": {"collection": index[0], "fingerprint": index[1]} if index else None,
            "configuration": masked(self._settings.model_dump()),
        }

    def errors(self, actor: str) -> list[dict[str, str]]:
        self.require_admin(actor)
        return [{k: _shown(v) for k, v in e.items()} for e in self._errors.list()]

    def audit_log(self, actor: str, event: str | None = None, who: str | None = None) -> list[dict[str, Any]]:
        """The newest events, newest first. Lines that are not events (a damaged file) are skipped;
        their count comes first as a row of its own, so the view says something is wrong."""
        self.require_admin(actor)
        page = audit_log.read_page(self._audit_file, event=event or None, actor=who or None)
        events = [{k: _shown(v) for k, v in e.items()} for e in page.events]
        if not page.skipped:
            return events
        notice = {"event": "audit.unreadable", "outcome": f"{page.skipped} unreadable lines skipped"}
        return [notice, *events]


def _shown(value: Any) -> Any:
    """An audit value as the view shows it: anything that is not plain visible text (a line
    separator, a control, a bidi override left by an older writer) spelled out as an escape, so the
    admin sees it and no page or event stream ever carries it raw."""
    if not isinstance(value, str):
        return value
    return "".join(ch if ch == " " or clean_line(ch, 2) == ch else ascii(ch)[1:-1] for ch in value)


def masked(value: Any) -> Any:
    """The configuration as shown to admins: every secret replaced, URLs without their password."""
    if isinstance(value, SecretStr):
        return "********" if value.get_secret_value() else ""
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, str) and "://" in value:
        return _masked_url(value)
    return value


_SECRET_PARAMS = {"api_key", "apikey", "key", "token", "access_token", "password", "secret", "sig", "signature"}


def _masked_url(url: str) -> str:
    """A URL without its password and without secret-looking query parameters."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:********@{host}" if ":" in userinfo else f"{userinfo}@{host}"
        query = urlencode(
            [(k, "********" if k.lower() in _SECRET_PARAMS else v) for k, v in parse_qsl(parts.query, True)]
        )
        return urlunsplit(parts._replace(netloc=netloc, query=query))
    except ValueError:
        return "********"  # not readable as a URL: show nothing of it rather than a secret
