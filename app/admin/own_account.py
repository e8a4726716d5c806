"""A person deleting their own account (Settings > Delete my account): confirmed by their password,
or by typing their user name when the account has none (single sign-on or a trusted proxy made it)
or when this browser signed in through single sign-on (the identity provider vouched for the
person, as the password would; accounts it made before they were made without a password have a
random one nobody knows).
Everything they own goes the way `users remove` removes it (AccountService.remove): documents,
vectors, originals, conversations, usage, tokens, memberships, sessions. The last administrator
cannot leave this way. Admins remove others with `users remove` or the Admin tab."""

from __future__ import annotations

from loguru import logger

from app.admin.accounts import AccountService, Removal, RemovalPlan
from app.audit import audit
from app.auth.sessions import SessionStore
from app.auth.throttle import LoginThrottle
from app.auth.users import UserService
from app.errors import AuthError


class OwnAccount:
    def __init__(
        self,
        users: UserService,
        accounts: AccountService,
        throttle: LoginThrottle | None = None,
        sessions: SessionStore | None = None,
    ) -> None:
        self._users = users
        self._accounts = accounts
        self._throttle = throttle  # wrong passwords count as failed sign-ins (no guessing from a live session)
        self._sessions = sessions  # how the asking browser signed in (None: always by password)

    def preview(self, username: str) -> RemovalPlan:
        """What deleting one's own account would remove (nothing is changed)."""
        return self._accounts.plan(username)

    def confirms_with_password(self, username: str, session: str | None = None) -> bool:
        """True: the password confirms; False: typing the user name does (no password to type, or
        the browser's session `session` was opened by single sign-on)."""
        if not self._users.has_password(username):
            return False
        if self._sessions is None or session is None:
            return True
        return self._sessions.signed_in_by(session, username) in (None, "password")

    def delete(
        self, username: str, confirmation: str, client: str | None = None, session: str | None = None
    ) -> Removal:
        """Delete `username` and all they own once `confirmation` is their password (or their name,
        see confirms_with_password); AuthError otherwise, nothing changed."""
        self._users.get(username)
        if self.confirms_with_password(username, session):
            self._check_password(username, confirmation or "", client)
        elif (confirmation or "").strip() != username:
            raise AuthError("type your user name exactly to confirm")
        if self._users.get(username).is_admin and self._users.admins_left(username) == 0:
            raise AuthError("you are the last administrator: make someone else an administrator first")
        done = self._accounts.remove(username)
        audit(
            "user.removed",
            username,
            target=username,
            client=client,
            self_service=True,
            documents_deleted=done.documents_deleted,
        )
        logger.bind(user=username).info("own account deleted user={} documents={}", username, done.documents_deleted)
        return done

    def _check_password(self, username: str, password: str, client: str | None) -> None:
        if self._throttle is not None and not self._throttle.check(username, client).allowed:
            raise AuthError("too many wrong passwords; wait a minute and try again")
        if not self._users.authenticate(username, password[:1024]):
            if self._throttle is not None:
                self._throttle.failure(username, client)
            audit("user.removed", username, target=username, client=client, outcome="failed", self_service=True)
            raise AuthError("the password is not right")
