"""The settings sections of serving: the HTTP server, sign-in and sessions, /metrics and traces
(config.yaml's `server`, `auth`, `metrics` and `otel`). `app.config.Settings` composes them."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from app.config_sections import Secret, Section

# Loopback and private ranges: where a Prometheus scraper usually sits.
PRIVATE_NETWORKS = ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")


class ServerSettings(Section):
    """The HTTP server: its address, concurrency, background ingestion, proxies and origins, and what
    one user may hold of it."""

    host: str = Field("0.0.0.0", description="Address to listen on (`serve --host` overrides it)")
    port: int = Field(7860, ge=1, le=65535, description="Port to listen on (`serve --port` overrides it)")
    concurrency: int = Field(32, ge=1, description="Requests served in parallel per event")
    ingest_workers: int = Field(
        1,
        ge=0,
        description="Background ingestion threads; 0: this instance takes uploads and leaves their indexing to "
        "the other instances' workers (they share the database and the file store)",
    )
    keep_alive_s: int = Field(
        75,
        ge=1,
        description="Idle HTTP connections are closed after this long. Keep it above the load balancer's idle "
        "timeout (60 s on most): a connection the server closes as a client reuses it is reset (a 502 behind a "
        "balancer); uvicorn's own default is 5 s",
    )
    ingest_lease_s: float = Field(
        60, ge=3, description="A job whose instance stopped renewing its lease this long ago is taken over"
    )
    ingest_nice: int = Field(
        10,
        ge=0,
        le=19,
        description="Scheduling niceness of the background ingestion threads (0: same priority as answers)",
    )
    public_url: str | None = Field(
        None, description="The address users open, e.g. https://pdfqa.example.com (its origin is trusted)"
    )
    allowed_origins: list[str] = Field(
        default_factory=list, description="Other web origins allowed to call the app from a browser"
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Networks (CIDR) of reverse proxies whose X-Forwarded-For/-Proto headers are believed",
    )
    max_request_kb: int = Field(2048, ge=16, description="Largest request body other than a file upload")
    max_tabs_per_user: int = Field(
        32,
        ge=1,
        description="Browser tabs (Gradio session states, each a copy of the page's components) one user may hold "
        "in this process; a new one beyond replaces that user's least recently used closed tab (no heartbeat: "
        "closed, or a script's finished call), else one idle for a minute, else it is refused with a message",
    )
    tab_idle_minutes: float = Field(
        30,
        gt=0,
        description="A tab's server-side state with no open heartbeat connection (the tab was closed) and no event "
        "for this long is dropped",
    )
    max_queued_per_user: int = Field(
        20,
        ge=1,
        description="Events (questions, uploads, page refreshes) one user may have waiting or running at once; "
        "more are refused with a message, so that one user's flood never starves the others (keep it below "
        "server.concurrency, or one user can hold every worker of an event)",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as e:
                raise ValueError(f"not a network: {item!r} (use e.g. 10.0.0.0/8 or 192.0.2.7)") from e
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for item in value:
            if not re.fullmatch(r"https?://[^/\s]+", item):
                raise ValueError(f"not an origin: {item!r} (scheme://host[:port], no path)")
        return [item.lower() for item in value]

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value and not re.match(r"https?://[^/\s]+", value):
            raise ValueError(f"not a URL: {value!r} (e.g. https://pdfqa.example.com)")
        return value.rstrip("/") if value else value


class OidcSettings(Section):
    """Single sign-on with an OpenID Connect provider (authorization code flow with PKCE)."""

    enabled: bool = Field(False, description="Offer sign-in through the provider at /login/oidc")
    issuer: str = Field("", description="The provider's issuer URL (its /.well-known/openid-configuration is read)")
    client_id: str = Field("", description="This app's client id at the provider")
    client_secret: Secret = Field(None, description="Secret: env APP_AUTH__OIDC__CLIENT_SECRET only")
    scopes: list[str] = Field(
        default_factory=lambda: ["openid", "profile", "email"], description="Scopes asked for ('openid' is always sent)"
    )
    username_claim: str = Field("preferred_username", description="ID token claim that names the user in the app")
    groups_claim: str = Field("groups", description="ID token claim that lists the user's groups at the provider")
    allowed_email_domains: list[str] = Field(
        default_factory=list, description="Only users whose verified email is in one of these domains (empty: anyone)"
    )
    local_passwords: bool = Field(
        True, description="Whether password sign-in stays on beside single sign-on (false: the provider only)"
    )
    button_label: str = Field("Sign in with single sign-on", description="The link's text on the sign-in page")

    @model_validator(mode="after")
    def _complete(self) -> OidcSettings:
        if self.enabled:
            missing = [name for name in ("issuer", "client_id") if not getattr(self, name)]
            if self.client_secret is None:
                missing.append("client_secret (env APP_AUTH__OIDC__CLIENT_SECRET)")
            if missing:
                raise ValueError(f"auth.oidc.enabled is true but these are not set: {', '.join(missing)}")
            if not re.match(r"^https?://[^\s/]+", self.issuer):
                raise ValueError(f"auth.oidc.issuer must be an http(s) URL, not {self.issuer!r}")
        return self


class AuthSettings(Section):
    """Sign-in (passwords, single sign-on, or Hugging Face accounts), login throttling and session lifetimes."""

    mode: Literal["password", "hf_oauth", "trusted_header"] = Field(
        "password",
        description="Login method; trusted_header: a sign-in proxy (one of server.trusted_proxies) names the user",
    )
    user_header: str = Field("X-Forwarded-User", description="trusted_header: the header that names the user")
    groups_header: str = Field(
        "X-Forwarded-Groups", description="trusted_header: the header listing the user's groups (comma-separated)"
    )
    allowed_users: list[str] = Field(
        default_factory=list, description="hf_oauth: Hugging Face usernames that may sign in"
    )
    allowed_orgs: list[str] = Field(
        default_factory=list, description="hf_oauth: members of these Hugging Face organisations may sign in"
    )
    allow_any_hf_user: bool = Field(
        False, description="hf_oauth without an allow-list: let every Hugging Face account in (spends your key)"
    )
    max_failures: int = Field(
        5, ge=1, description="Failed logins of one user from one address (within failure_window_s) before a cool-down"
    )
    lockout_s: float = Field(60, gt=0, description="Cool-down length; doubles with each further failure")
    failure_window_s: float = Field(900, gt=0, description="Failures older than this are forgotten")
    max_failures_per_address: int = Field(
        20,
        ge=2,
        description="Failed logins from one address, any user, before that address cools down (was hard_lock_failures)",
    )
    global_failures_per_minute: int = Field(
        120, ge=1, description="Above this many failures per minute in all, every login check is slowed down"
    )
    session_idle_minutes: float = Field(480, gt=0, description="A session unused this long ends")
    session_max_hours: float = Field(168, gt=0, description="A session ends this long after the login, used or not")
    oidc: OidcSettings = Field(default_factory=OidcSettings, description="Single sign-on (OpenID Connect)")

    @model_validator(mode="after")
    def _hf_allow_list(self) -> AuthSettings:
        if self.mode == "hf_oauth" and not (self.allowed_users or self.allowed_orgs or self.allow_any_hf_user):
            raise ValueError(
                "auth.mode is hf_oauth but nobody is listed: set auth.allowed_users and/or auth.allowed_orgs, "
                "or auth.allow_any_hf_user: true to let every Hugging Face account in (at your cost)"
            )
        return self

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: Any) -> Any:
        """`hard_lock_failures` (earlier versions) still works; the new name wins when both are set."""
        if isinstance(data, dict) and "hard_lock_failures" in data:
            data = dict(data)
            old = data.pop("hard_lock_failures")
            data.setdefault("max_failures_per_address", old)
        return data


class MetricsSettings(Section):
    """Who may read /metrics (Prometheus): listed networks, or a bearer token."""

    allowed_networks: list[str] = Field(
        default_factory=lambda: list(PRIVATE_NETWORKS),
        description="Client networks that may read /metrics without a token",
    )
    token: Secret = Field(None, description="Secret: env APP_METRICS__TOKEN; 'Authorization: Bearer' opens /metrics")

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        return ServerSettings._networks(value)


class OtelSettings(Section):
    """OpenTelemetry traces: off unless an endpoint is set (needs the `otel` extra)."""

    endpoint: str | None = Field(
        None, description="OTLP/HTTP collector for traces, e.g. http://otel-collector:4318; null = no tracing"
    )
    service_name: str = Field("pdfqa", description="service.name on every span")
    sample_ratio: float = Field(1.0, ge=0, le=1, description="Share of requests traced (parent-based)")

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("otel.endpoint must be an http:// or https:// URL (OTLP over HTTP)")
        return value or None
