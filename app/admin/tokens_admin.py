"""Everyone's personal access tokens as the Admin tab manages them: every call checks that the caller
is an administrator (AdminConsole.require_admin), then acts through TokenService, which audits a
revocation (actor, owner, prefix, client). Never the tokens themselves: only what a list shows."""

from __future__ import annotations

from app.admin.console import AdminConsole
from app.auth.tokens import TokenInfo, TokenService

LISTED = 500  # the newest tokens shown; a filter by user finds older ones


class TokensAdmin:
    def __init__(self, console: AdminConsole, tokens: TokenService) -> None:
        self._console = console
        self._tokens = tokens

    def require(self, admin: str) -> None:
        self._console.require_admin(admin)

    def list(self, admin: str, user: str | None = None) -> list[TokenInfo]:
        """The newest LISTED tokens of everyone (or of `user`), revoked and expired ones included."""
        self._console.require_admin(admin)
        return self._tokens.list(user or None, limit=LISTED)

    def find(self, admin: str, id_or_prefix: str) -> TokenInfo:
        self._console.require_admin(admin)
        return self._tokens.find(id_or_prefix)

    def revoke(self, admin: str, token_id: str, client: str | None = None) -> TokenInfo:
        self._console.require_admin(admin)
        return self._tokens.revoke(token_id, actor=admin, client=client)
