"""The Usage tab: its own layout and wiring (one class per page), so it changes without touching the
other tabs. Users see their last 30 days and today's use against each limit; admins also see every
user, change a user's limits and download the usage as CSV. Admin rights are checked on the server
for every admin action."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import gradio as gr
import pandas as pd

from app.audit import audit
from app.usage.quotas import LIMIT_KEYS, parse_limit
from app.usage.report import UsageReport
from app.web.ui.errors import client_host, ui_errors
from app.web.ui.i18n import I18N, language, msg

USERS_HEADERS = ["user", "questions (30 d)", "tokens (30 d)", "cost (30 d)", "questions today", "questions/day"]


def _t(key: str) -> Any:
    return I18N(key)


def _shown(value: object) -> str:
    """A limit as the audit log writes it (as `quotas set` does): a number, unlimited or default."""
    if value is None:
        return "unlimited"
    return f"{value:g}" if isinstance(value, (int, float)) else "default"


class UsageTab:
    def __init__(self, report: UsageReport, user_of: Callable[[gr.Request | None], str]) -> None:
        self._report = report
        self._user_of = user_of
        self.tab: gr.Tab | None = None  # set by the layout (`with gr.Tab(...) as usage_tab.tab`)

    # ---- layout -------------------------------------------------------------------------------

    def render(self) -> None:
        """Build the components; call inside `with gr.Tab(...)`."""
        self.status = gr.Markdown(elem_id="usage-status")
        with gr.Row():
            self.questions = gr.BarPlot(
                x="day", y="questions", title=_t("usage.questions"), x_label_angle=-45, elem_id="usage-questions"
            )
            self.tokens = gr.LinePlot(
                x="day", y="tokens", title=_t("usage.tokens"), x_label_angle=-45, elem_id="usage-tokens"
            )
            self.cost = gr.LinePlot(x="day", y="cost", title=_t("usage.cost"), x_label_angle=-45, elem_id="usage-cost")
        with gr.Group(visible=False, elem_id="usage-admin") as self.admin:
            gr.Markdown(_t("usage.admin"))
            self.users = gr.Dataframe(headers=USERS_HEADERS, value=[], interactive=False, elem_id="usage-users")
            with gr.Row():
                self.user = gr.Dropdown(label=_t("usage.user"), choices=[], value=None, allow_custom_value=True)
                self.load_limits = gr.Button(_t("usage.show_limits"), size="sm")
            with gr.Row():
                self.fields = [
                    gr.Textbox(label=key, placeholder="default", elem_id=f"limit-{key}") for key in LIMIT_KEYS
                ]
            with gr.Row():
                self.save = gr.Button(_t("usage.save_limits"), variant="primary", elem_id="save-limits")
                self.export = gr.Button(_t("usage.csv"), elem_id="usage-csv")
            self.saved = gr.Markdown(elem_id="limits-saved")
            self.csv_file = gr.File(label="CSV", interactive=False, elem_id="usage-csv-file")
        self.refresh_button = gr.Button(_t("docs.refresh"), size="sm")

    # ---- wiring -------------------------------------------------------------------------------

    def wire(self, triggers: list[Any]) -> None:
        """Refresh on every trigger (page load, tab select, after a question) and on the button."""
        private: dict[str, Any] = {"api_visibility": "private"}
        outputs = [self.status, self.questions, self.tokens, self.cost, self.admin, self.users, self.user]
        for trigger in [*triggers, self.refresh_button.click]:
            trigger(self.view, None, outputs, show_progress="hidden", **private)
        self.load_limits.click(self.limits_of, [self.user], self.fields, **private)
        self.user.input(self.limits_of, [self.user], self.fields, **private)
        self.save.click(self.save_limits, [self.user, *self.fields], [self.saved, self.users], **private)
        self.export.click(self.export_csv, None, self.csv_file, **private)

    # ---- handlers -----------------------------------------------------------------------------

    @ui_errors
    def view(self, request: gr.Request) -> tuple[Any, ...]:
        owner = self._user_of(request)
        lang = language(request)
        days = self._report.daily(owner)
        frame = pd.DataFrame(
            [{"day": d.day, "questions": d.questions, "tokens": d.tokens, "cost": d.cost} for d in days]
        )
        admin = self._report.is_admin(owner)
        users = self._users_table() if admin else []
        return (
            self._status_text(owner, lang),
            frame,
            frame,
            frame,
            gr.update(visible=admin),
            {"headers": USERS_HEADERS, "data": users},
            gr.update(choices=[row[0] for row in users]) if admin else gr.update(),
        )

    def _status_text(self, owner: str, lang: str) -> str:
        lines = [f"**{msg('usage.today', lang)}**", ""]
        for s in self._report.status(owner):
            label = msg(f"quota.{s.key}", lang)
            used = f"{s.used:.4f}".rstrip("0").rstrip(".") if s.key == "cost_per_month" else f"{s.used:g}"
            if s.limit is None:
                lines.append(f"- {label}: {used} ({msg('unlimited', lang)})")
                continue
            left = max(0.0, float(s.limit) - s.used)
            resets = ""
            if s.resets_at is not None:
                zone = self._report.timezone
                resets = msg(
                    "usage.resets", lang, when=f"{s.resets_at.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} ({zone})"
                )
            lines.append(f"- {label}: {used} / {s.limit:g} — {msg('usage.left', lang, left=f'{left:g}')}{resets}")
        limits = self._report.limits(owner)
        kept = self._report.kept(owner)
        for key in ("storage_mb", "documents"):
            value, now = limits.get(key), kept[key]
            label = msg(f"quota.{key}", lang)
            if value is None:
                lines.append(f"- {label}: {now:g} ({msg('unlimited', lang)})")
            else:
                remaining = max(0.0, float(value) - now)
                lines.append(f"- {label}: {now:g} / {value:g} — {msg('usage.left', lang, left=f'{remaining:g}')}")
        return "\n".join(lines)

    def _users_table(self) -> list[list[Any]]:
        rows = []
        for u in self._report.everyone():
            limit = u.limits.get("questions_per_day")
            rows.append([u.user, u.questions, u.tokens, u.cost, u.questions_today, "∞" if limit is None else limit])
        return rows

    @ui_errors
    def limits_of(self, user: str | None, request: gr.Request) -> list[str]:
        self._report.require_admin(self._user_of(request))
        if not user:
            return [""] * len(LIMIT_KEYS)
        limits = self._report.limits(user)
        return ["unlimited" if limits[k] is None else f"{limits[k]:g}" for k in LIMIT_KEYS]

    @ui_errors
    def save_limits(
        self,
        user: str | None,
        questions_per_day: str,
        tokens_per_day: str,
        cost_per_month: str,
        pages_per_day: str,
        storage_mb: str,
        documents: str,
        request: gr.Request,
    ) -> tuple[str, dict[str, Any]]:
        """Empty fields are left as they are; 'default' drops the user's override."""
        values = [questions_per_day, tokens_per_day, cost_per_month, pages_per_day, storage_mb, documents]
        admin = self._user_of(request)
        self._report.require_admin(admin)
        lang = language(request)
        if not user:
            raise gr.Error(msg("usage.pick_user", lang))
        changes = {k: parse_limit(k, str(v)) for k, v in zip(LIMIT_KEYS, values, strict=True) if str(v or "").strip()}
        self._report.set_limits(admin, user, **changes)
        # The same audit line as `quotas set` on the command line, with this admin as the actor.
        shown = ", ".join(f"{k}={_shown(v)}" for k, v in changes.items())
        audit("quota.changed", admin, target=user, limits=shown, client=client_host(request))
        return msg("usage.limits_saved", lang, user=user), {"headers": USERS_HEADERS, "data": self._users_table()}

    @ui_errors
    def export_csv(self, request: gr.Request) -> str:
        text = self._report.csv(self._user_of(request))
        folder = Path(tempfile.mkdtemp(prefix="usage-"))
        path = folder / "usage.csv"
        path.write_text(text, encoding="utf-8")
        return str(path)
