"""Interface text in English and Japanese. Labels go through gr.I18n (the browser's language);
messages produced at run time pick the language from the request's Accept-Language header."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import gradio as gr

from app.errors import QuotaExceeded

EN: dict[str, str] = {
    "title": "PDF Q&A",
    "tab.chat": "Chat",
    "tab.documents": "Documents",
    "tab.settings": "Settings",
    "chat.question": "Your question",
    "chat.placeholder": "Ask about your documents…",
    "chat.send": "Send",
    "chat.new": "New chat",
    "chat.conversations": "Conversations",
    "chat.rename": "Rename",
    "chat.new_title": "New title",
    "chat.delete": "Delete chat",
    "chat.scope": "Search only these documents (none selected = all)",
    "chat.sources": "Sources",
    "chat.citation": "Show a cited page",
    "chat.page": "Cited page",
    "chat.passage": "Quoted passage",
    "docs.upload": "Upload PDFs",
    "docs.upload_button": "Add to my documents",
    "docs.progress": "Uploads",
    "docs.table": "My documents",
    "docs.select": "Document",
    "docs.delete": "Delete document",
    "docs.refresh": "Refresh",
    "settings.key": "Your OpenAI API key (kept only in this browser session's server memory)",
    "settings.key_save": "Use this key",
    "settings.key_clear": "Forget my key",
    "settings.usage": "Usage",
    "tab.usage": "Usage",
    "usage.questions": "Questions per day",
    "usage.tokens": "Tokens per day",
    "usage.cost": "Estimated cost per day",
    "usage.admin": "### All users (last 30 days)",
    "usage.user": "User",
    "usage.show_limits": "Show limits",
    "usage.save_limits": "Save limits",
    "usage.csv": "Download CSV",
    "logout": "Log out",
}

JA: dict[str, str] = {
    "title": "PDF Q&A",
    "tab.chat": "チャット",
    "tab.documents": "文書",
    "tab.settings": "設定",
    "chat.question": "質問",
    "chat.placeholder": "文書について質問してください…",
    "chat.send": "送信",
    "chat.new": "新しいチャット",
    "chat.conversations": "会話",
    "chat.rename": "名前を変更",
    "chat.new_title": "新しい名前",
    "chat.delete": "チャットを削除",
    "chat.scope": "検索対象の文書（未選択ならすべて）",
    "chat.sources": "出典",
    "chat.citation": "引用ページを表示",
    "chat.page": "引用ページ",
    "chat.passage": "引用箇所",
    "docs.upload": "PDF をアップロード",
    "docs.upload_button": "文書に追加",
    "docs.progress": "アップロード状況",
    "docs.table": "自分の文書",
    "docs.select": "文書",
    "docs.delete": "文書を削除",
    "docs.refresh": "更新",
    "settings.key": "自分の OpenAI API キー（このセッションのサーバーメモリにのみ保持）",
    "settings.key_save": "このキーを使う",
    "settings.key_clear": "キーを消去",
    "settings.usage": "利用状況",
    "tab.usage": "利用状況",
    "usage.questions": "1日の質問数",
    "usage.tokens": "1日のトークン数",
    "usage.cost": "1日の推定費用",
    "usage.admin": "### 全ユーザー（過去30日）",
    "usage.user": "ユーザー",
    "usage.show_limits": "上限を表示",
    "usage.save_limits": "上限を保存",
    "usage.csv": "CSV をダウンロード",
    "logout": "ログアウト",
}

# Messages built at run time, formatted with str.format.
MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "not_signed_in": "Please sign in first.",
        "empty_question": "Type a question first.",
        "key_required": "Enter your OpenAI API key in Settings first.",
        "keys_off": "Personal API keys are disabled on this server.",
        "key_saved": "Your key is active for this session only. It is not saved anywhere.",
        "key_cleared": "Your key was forgotten.",
        "key_none": "No personal key is set; the server's key is used.",
        "queued": "queued",
        "reading": "reading",
        "embedding": "embedding page {done}/{total}",
        "done": "done",
        "unchanged": "done (already uploaded)",
        "replaced": "done (replaced the previous version)",
        "failed": "failed: {message}",
        "no_files": "Choose one or more PDF files first.",
        "too_many_files": "At most {count} files at a time, please.",
        "not_pdf": "{name} is not a PDF",
        "deleted": "Deleted {name}.",
        "select_document": "Select a document first.",
        "usage": "Tokens used: {prompt} prompt + {completion} completion.",
        "quota_title": "Limit reached",
        "quota": "You have reached your limit of {limit}: {value}. It resets on {resets}.",
        "quota_never": "You have reached your limit of {limit}: {value}. Ask the administrator to raise it.",
        "quota.questions_per_day": "questions per day",
        "quota.tokens_per_day": "tokens per day",
        "quota.cost_per_month": "estimated cost per month",
        "quota.pages_per_day": "pages uploaded per day",
        "quota.storage_mb": "storage (MB)",
        "quota.documents": "documents",
        "unlimited": "unlimited",
        "cached": "Answered from the cache (no new model call).",
        "usage.today": "Today's use and your limits",
        "usage.left": "{left} left",
        "usage.resets": ", resets {when}",
        "usage.pick_user": "Choose a user first.",
        "usage.limits_saved": "Limits of {user} saved.",
        "internal": "Something went wrong. Please try again; if it persists, tell the administrator (ref {ref}).",
        "sources": "Sources",
        "score": "score",
        "page": "p.",
        "doc_headers": "name|pages|chunks|size|uploaded|status|id",
        "job_headers": "file|status",
        "status.ready": "ready",
        "status.indexing": "indexing",
        "status.queued": "queued",
        "status.failed": "failed: {error}",
    },
    "ja": {
        "not_signed_in": "先にログインしてください。",
        "empty_question": "質問を入力してください。",
        "key_required": "先に「設定」で OpenAI API キーを入力してください。",
        "keys_off": "このサーバーでは個人の API キーは使えません。",
        "key_saved": "キーはこのセッションでのみ使われ、どこにも保存されません。",
        "key_cleared": "キーを消去しました。",
        "key_none": "個人のキーは未設定です。サーバーのキーを使います。",
        "queued": "待機中",
        "reading": "読み込み中",
        "embedding": "埋め込み中 {done}/{total} ページ",
        "done": "完了",
        "unchanged": "完了（アップロード済み）",
        "replaced": "完了（以前の版を置き換え）",
        "failed": "失敗: {message}",
        "no_files": "PDF ファイルを選んでください。",
        "too_many_files": "一度に送れるのは {count} ファイルまでです。",
        "not_pdf": "{name} は PDF ではありません",
        "deleted": "{name} を削除しました。",
        "select_document": "文書を選んでください。",
        "usage": "使用トークン: プロンプト {prompt}、回答 {completion}。",
        "quota_title": "利用上限",
        "quota": "{limit}の上限（{value}）に達しました。{resets} にリセットされます。",
        "quota_never": "{limit}の上限（{value}）に達しました。管理者に引き上げを依頼してください。",
        "quota.questions_per_day": "1日の質問数",
        "quota.tokens_per_day": "1日のトークン数",
        "quota.cost_per_month": "1か月の推定費用",
        "quota.pages_per_day": "1日のアップロードページ数",
        "quota.storage_mb": "保存容量（MB）",
        "quota.documents": "文書数",
        "unlimited": "無制限",
        "cached": "キャッシュから回答しました（モデルは呼び出していません）。",
        "usage.today": "今日の利用状況と上限",
        "usage.left": "残り {left}",
        "usage.resets": "、{when} にリセット",
        "usage.pick_user": "ユーザーを選んでください。",
        "usage.limits_saved": "{user} の上限を保存しました。",
        "internal": "エラーが発生しました。もう一度お試しください。続く場合は管理者に連絡してください（ref {ref}）。",
        "sources": "出典",
        "score": "スコア",
        "page": "p.",
        "doc_headers": "名前|ページ|チャンク|サイズ|アップロード日時|状態|ID",
        "job_headers": "ファイル|状態",
        "status.ready": "利用可能",
        "status.indexing": "索引作成中",
        "status.queued": "待機中",
        "status.failed": "失敗: {error}",
    },
}


I18N = gr.I18n(en=EN, ja=JA)


def language(request: gr.Request | None) -> str:
    """'ja' when the browser prefers Japanese, else 'en'."""
    header = ""
    if request is not None:
        try:
            header = request.headers.get("accept-language", "") or ""
        except AttributeError:
            header = ""
    return "ja" if header.lower().startswith("ja") else "en"


def msg(key: str, lang: str, **values: object) -> str:
    return MESSAGES.get(lang, MESSAGES["en"])[key].format(**values)


def quota_message(error: QuotaExceeded, lang: str) -> str:
    """Which limit, its value and when it resets (in the reset time zone), in the user's language."""
    limit = msg(f"quota.{error.limit}", lang) if error.limit else error.limit
    value = msg("unlimited", lang) if error.value is None else f"{error.value:g}"
    if error.resets_at is None:
        return msg("quota_never", lang, limit=limit, value=value)
    local = error.resets_at.astimezone(ZoneInfo(error.timezone))
    return msg("quota", lang, limit=limit, value=value, resets=f"{local:%Y-%m-%d %H:%M} ({error.timezone})")
