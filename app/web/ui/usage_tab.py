"""The Usage tab: its own layout and wiring (one class per page), so it changes without touching the
other tabs. Users see their last 30 days and today's use against each limit; admins also see every
user, change a user's limits (only the ones they changed are saved: an untouched limit keeps
following the configuration) and download the usage as CSV. Admin rights are checked on the server
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
from app.errors import ConfigError
from app.usage.quotas import LIMIT_KEYS, parse_limit, shown_limit
from app.usage.report import UsageReport
from app.web.ui.errors import client_host, refused, ui_errors
from app.web.ui.i18n import I18N, label, language, msg, service_text

USERS_HEADERS = ["user", "questions (30 d)", "tokens (30 d)", "cost (30 d)", "questions today", "questions/day"]
PLOTTED = ("questions", "tokens", "cost")  # the plots' y columns, in the order of the view's outputs
Loaded = dict[str, Any]  # the limits shown in the form: {"user": name, "values": {key: text}}


def _t(key: str) -> Any:
    return I18N(key)


def _noon(day: str) -> pd.Timestamp:
    """A day on the time axis: at noon, so the browser's time zone (the axis is drawn in it) never
    moves it to the day before or after."""
    return pd.Timestamp(day) + pd.Timedelta(hours=12)


def changed_limits(typed: dict[str, str | None], before: dict[str, str], lang: str) -> dict[str, object]:
    """The limits an admin changed in a limits form, parsed: a field left empty, or still showing
    what was loaded into it (`before`), is no change. A mistyped one is refused in `lang`."""
    fields = {k: str(v or "").strip() for k, v in typed.items()}
    try:
        return {k: parse_limit(k, v) for k, v in fields.items() if v and v != before.get(k)}
    except ConfigError as e:  # a mistyped limit: the admin's to correct
        raise refused(service_text(str(e), lang), lang) from e


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
            # Days on a time axis labelled MM-DD: a tick every few days, never overlapping, in date order.
            # The titles come with the data, in the user's language: a gr.I18n title or axis title was at
            # times drawn as its raw "__i18n__{...}" key.
            axis: dict[str, Any] = {"x": "day", "x_axis_format": "%m-%d", "x_title": ""}
            self.questions = gr.BarPlot(y="questions", y_axis_format=",~g", elem_id="usage-questions", **axis)
            self.tokens = gr.LinePlot(y="tokens", y_axis_format=",.0f", elem_id="usage-tokens", **axis)
            self.cost = gr.LinePlot(y="cost", y_axis_format="~g", elem_id="usage-cost", **axis)
        with gr.Group(visible=False, elem_id="usage-admin") as self.admin:
            gr.Markdown(_t("usage.admin"))
            self.users = gr.Dataframe(headers=USERS_HEADERS, value=[], interactive=False, elem_id="usage-users")
            with gr.Row():
                self.user = gr.Dropdown(label=_t("usage.user"), choices=[], value=None, allow_custom_value=True)
                self.load_limits = gr.Button(_t("usage.show_limits"), size="sm")
            with gr.Row():
                self.fields = [
                    gr.Textbox(label=_t(f"limit.{key}"), placeholder=_t("usage.default"), elem_id=f"limit-{key}")
                    for key in LIMIT_KEYS
                ]
            self.loaded = gr.State(None)  # what "Show limits" put in the form: only changes are saved
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
        form = [*self.fields, self.loaded]
        self.load_limits.click(self.limits_of, [self.user], form, **private)
        self.user.input(self.limits_of, [self.user], form, **private)
        saved = [self.saved, self.users, self.status, *form]
        self.save.click(self.save_limits, [self.user, *self.fields, self.loaded], saved, **private)
        self.export.click(self.export_csv, None, self.csv_file, **private)

    # ---- handlers -----------------------------------------------------------------------------

    @ui_errors
    def view(self, request: gr.Request) -> tuple[Any, ...]:
        owner = self._user_of(request)
        lang = language(request)
        days = self._report.daily(owner)
        frame = pd.DataFrame(
            [{"day": _noon(d.day), "questions": d.questions, "tokens": d.tokens, "cost": d.cost} for d in days]
        )
        admin = self._report.is_admin(owner)
        users = self._users_table(lang) if admin else {"headers": self._users_headers(lang), "data": []}
        x_title = msg("usage.day", lang)
        return (
            self._status_text(owner, lang),
            *(
                gr.update(
                    value=frame, title=label(f"usage.{y}", lang), x_title=x_title, y_title=msg(f"usage.y_{y}", lang)
                )
                for y in PLOTTED
            ),
            gr.update(visible=admin),
            users,
            gr.update(choices=[row[0] for row in users["data"]]) if admin else gr.update(),
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

    @staticmethod
    def _users_headers(lang: str) -> list[str]:
        return msg("usage.users_headers", lang).split("|")

    def _users_table(self, lang: str) -> dict[str, Any]:
        rows = []
        for u in self._report.everyone():
            limit = u.limits.get("questions_per_day")
            rows.append([u.user, u.questions, u.tokens, u.cost, u.questions_today, "∞" if limit is None else limit])
        return {"headers": self._users_headers(lang), "data": rows}

    @ui_errors
    def limits_of(self, user: str | None, request: gr.Request) -> list[Any]:
        """The user's limits in the form, and what was shown (saving compares against it)."""
        self._report.require_admin(self._user_of(request))
        return self._form(user)

    def _form(self, user: str | None) -> list[Any]:
        if not user:
            return [""] * len(LIMIT_KEYS) + [None]
        limits = self._report.limits(user)
        shown = {k: "unlimited" if limits[k] is None else f"{limits[k]:g}" for k in LIMIT_KEYS}
        return [*shown.values(), {"user": user, "values": shown}]

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
        loaded: Loaded | None,
        request: gr.Request,
    ) -> tuple[Any, ...]:
        """Only the limits changed in the form are saved: an empty field, or one still showing what
        "Show limits" put there, is left as it is (and a limit that follows the configuration keeps
        following it); 'default' drops the user's override. Then the form, the users table and the
        status above show the limits as they now are."""
        values = [questions_per_day, tokens_per_day, cost_per_month, pages_per_day, storage_mb, documents]
        admin = self._user_of(request)
        self._report.require_admin(admin)
        lang = language(request)
        if not user:
            raise refused(msg("usage.pick_user", lang), lang)
        before = loaded["values"] if loaded and loaded.get("user") == user else {}
        changes = changed_limits(dict(zip(LIMIT_KEYS, values, strict=True)), before, lang)
        if changes:
            self._report.set_limits(admin, user, **changes)
            # The same audit line as `quotas set` on the command line, with this admin as the actor.
            shown = ", ".join(f"{k}={shown_limit(v)}" for k, v in changes.items())
            audit("quota.changed", admin, target=user, limits=shown, client=client_host(request))
        done = msg("usage.limits_saved" if changes else "usage.limits_unchanged", lang, user=user)
        return done, self._users_table(lang), self._status_text(admin, lang), *self._form(user)

    @ui_errors
    def export_csv(self, request: gr.Request) -> str:
        text = self._report.csv(self._user_of(request))
        folder = Path(tempfile.mkdtemp(prefix="usage-"))
        path = folder / "usage.csv"
        path.write_text(text, encoding="utf-8")
        return str(path)
