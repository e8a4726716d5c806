"""Single sign-on with an OpenID Connect provider: the authorization code flow with PKCE, state and
nonce, and the ID token checked before anyone is let in.

`OidcClient.start` gives the provider's sign-in URL and a `PendingLogin` (state, nonce, PKCE
verifier) that the web layer keeps in a short-lived signed cookie (`seal`/`unseal`: any instance
can finish a sign-in another one started). `OidcClient.finish` exchanges the code (authlib's OAuth
2 client) and checks the ID token (joserfc): signature against the provider's published keys, the
issuer, the audience (and `azp` when there are several), expiry and issue time with 30 s of clock
leeway, and the nonce. `OidcClient.identity` reads the user's name, email and groups from it,
applying `allowed_email_domains`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from loguru import logger

from app.clean import clean_line
from app.config_server import OidcSettings
from app.errors import AppError

LEEWAY_S = 30  # clock difference tolerated between the provider and this app
PENDING_MAX_AGE_S = 600  # a sign-in started and not finished within 10 minutes starts again
METADATA_TTL_S = 3600
HTTP_TIMEOUT_S = 10.0
SIGNING_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]


class OidcRefused(AppError):
    """The sign-in cannot go on; the message is for the user (nothing secret in it)."""


@dataclass(frozen=True)
class PendingLogin:
    state: str
    nonce: str
    verifier: str
    created: float


@dataclass(frozen=True)
class OidcIdentity:
    subject: str
    username: str
    email: str | None
    groups: tuple[str, ...]


class OidcClient:
    def __init__(self, settings: OidcSettings, transport: httpx.BaseTransport | None = None) -> None:
        self._settings = settings
        self._issuer = settings.issuer.rstrip("/")
        self._transport = transport
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None

    # ---- the flow ---------------------------------------------------------------------------

    def start(self, redirect_uri: str) -> tuple[str, PendingLogin]:
        """The provider's sign-in URL for a new attempt, and what must come back with it."""
        pending = PendingLogin(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            verifier=secrets.token_urlsafe(48),
            created=time.time(),
        )
        with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                self.metadata()["authorization_endpoint"],
                state=pending.state,
                nonce=pending.nonce,
                code_verifier=pending.verifier,
            )
        return url, pending

    def finish(self, redirect_uri: str, pending: PendingLogin, state: str, code: str) -> dict[str, Any]:
        """The ID token's claims, once the code is exchanged and the token checked."""
        if not hmac.compare_digest(state.encode(), pending.state.encode()):
            raise OidcRefused("this sign-in was not started here (state mismatch); please sign in again")
        if time.time() - pending.created > PENDING_MAX_AGE_S:
            raise OidcRefused("the sign-in took too long; please sign in again")
        try:
            with self._client(redirect_uri) as client:
                token = client.fetch_token(self.metadata()["token_endpoint"], code=code, code_verifier=pending.verifier)
        except Exception as e:
            logger.warning("oidc code exchange failed issuer={} error={}", self._issuer, type(e).__name__)
            raise OidcRefused("the identity provider did not accept the sign-in; please try again") from e
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise OidcRefused("the identity provider sent no ID token")
        return self.validate(id_token, pending.nonce)

    def validate(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The claims of an ID token signed by the provider, for this client, unexpired, with `nonce`."""
        try:
            try:
                decoded = jwt.decode(id_token, self._key_set(), algorithms=SIGNING_ALGORITHMS)
            except JoseError:
                decoded = jwt.decode(id_token, self._key_set(refresh=True), algorithms=SIGNING_ALGORITHMS)
            claims = dict(decoded.claims)
            jwt.JWTClaimsRegistry(
                leeway=LEEWAY_S,
                iss={"essential": True, "value": self._issuer_claim()},
                aud={"essential": True, "value": self._settings.client_id},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(claims)
        except (JoseError, ValueError) as e:
            logger.warning("oidc id token refused issuer={} reason={}", self._issuer, type(e).__name__)
            raise OidcRefused("the identity provider's answer could not be verified; please sign in again") from e
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self._settings.client_id:
            raise OidcRefused("the identity provider's answer was meant for another application")
        return claims

    def identity(self, claims: dict[str, Any]) -> OidcIdentity:
        """Who the claims name, as this app knows them; refused outside the allowed email domains."""
        s = self._settings
        name = claims.get(s.username_claim)
        username = clean_line(name, 128) if isinstance(name, str) else ""
        if not username:
            raise OidcRefused(f"the identity provider did not send the user's name (claim {s.username_claim!r})")
        email = claims.get("email") if isinstance(claims.get("email"), str) else None
        if s.allowed_email_domains:
            domain = email.rsplit("@", 1)[-1].lower() if email and "@" in email else ""
            allowed = {d.lower().lstrip("@") for d in s.allowed_email_domains}
            if claims.get("email_verified") is False or domain not in allowed:
                raise OidcRefused("your account's email domain is not allowed to sign in here")
        raw_groups = claims.get(s.groups_claim) or []
        groups = tuple(
            sorted({clean_line(g, 128) for g in raw_groups if isinstance(g, str) and clean_line(g, 128)})
            if isinstance(raw_groups, list)
            else ()
        )
        return OidcIdentity(subject=str(claims["sub"]), username=username, email=email, groups=groups)

    # ---- the provider's published configuration ---------------------------------------------

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._metadata is None or time.monotonic() - self._metadata_at > METADATA_TTL_S:
                url = f"{self._issuer}/.well-known/openid-configuration"
                data = self._get_json(url)
                for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
                    if not isinstance(data.get(key), str):
                        raise OidcRefused("the identity provider's configuration is incomplete")
                self._metadata, self._metadata_at = data, time.monotonic()
                self._keys = None
            return self._metadata

    def _issuer_claim(self) -> str:
        return str(self.metadata()["issuer"])

    def _key_set(self, refresh: bool = False) -> KeySet:
        jwks_uri = self.metadata()["jwks_uri"]
        with self._lock:
            if self._keys is None or refresh:  # a rotated key: read the published set again
                self._keys = KeySet.import_key_set(self._get_json(jwks_uri))  # type: ignore[arg-type]
            return self._keys

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            with httpx.Client(timeout=HTTP_TIMEOUT_S, transport=self._transport) as http:
                response = http.get(url)
                response.raise_for_status()
                data = response.json()
        except (httpx.HTTPError, ValueError) as e:
            logger.warning("oidc provider unreachable url={} error={}", url, type(e).__name__)
            raise OidcRefused("the identity provider cannot be reached; please try again later") from e
        if not isinstance(data, dict):
            raise OidcRefused("the identity provider sent an unexpected answer")
        return data

    def _client(self, redirect_uri: str) -> OAuth2Client:
        s = self._settings
        secret = s.client_secret.get_secret_value() if s.client_secret else None
        scopes = ["openid", *(x for x in s.scopes if x != "openid")]
        return OAuth2Client(
            s.client_id,
            secret,
            scope=" ".join(scopes),
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=HTTP_TIMEOUT_S,
            transport=self._transport,
        )


def seal(pending: PendingLogin, key: bytes) -> str:
    """`pending` as a cookie value: readable by any instance holding `key`, not forgeable."""
    body = base64.urlsafe_b64encode(json.dumps(asdict(pending)).encode()).decode()
    mac = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def unseal(value: str | None, key: bytes) -> PendingLogin | None:
    """The pending sign-in a cookie holds; None when it is missing, altered or malformed."""
    if not value or "." not in value:
        return None
    body, mac = value.rsplit(".", 1)
    if not hmac.compare_digest(mac, hmac.new(key, body.encode(), hashlib.sha256).hexdigest()):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body.encode()))
        return PendingLogin(str(data["state"]), str(data["nonce"]), str(data["verifier"]), float(data["created"]))
    except (ValueError, KeyError, TypeError):
        return None
