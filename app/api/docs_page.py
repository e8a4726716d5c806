"""The API's docs page (Swagger UI at /api/v1/docs), served whole by the app: its script and styles
come from the `fastapi-swagger` package's copy of Swagger UI 5 (which reads OpenAPI 3.1, FastAPI's
schema version; the older `swagger-ui-bundle` ships Swagger UI 4, which cannot), not from a CDN, so
the page works on a machine without Internet access, and its Content-Security-Policy allows scripts from the app
alone (the page's own set-up is a file too, not an inline script).

Like the schema (/api/v1/openapi.json), the page and its assets answer without a token: they
describe the API and hold no one's data.
"""

from __future__ import annotations

import html
import json
from functools import cache
from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from app.api.errors import ApiError

# The files the page loads, and nothing else of the package (no source maps, no other bundles).
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
PACKAGE = "fastapi_swagger"  # its resources/ folder; only the files are used, not its patching of FastAPI
ASSET_CACHE = b"public, max-age=86400"  # the files change only with the package

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{title}</title>
<link rel="stylesheet" href="{base}/swagger-ui.css">
<link rel="icon" type="image/png" href="{base}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{base}/swagger-ui-bundle.js"></script>
<script src="{base}/init.js"></script>
</body>
</html>
"""

INIT = """window.ui = SwaggerUIBundle({{
  url: {schema},
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  layout: "BaseLayout",
}});
"""


def docs_csp() -> str:
    """Scripts and styles from the app alone; Swagger UI sets style attributes and shows data: images."""
    return (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


@cache
def _asset(name: str) -> bytes:
    return files(PACKAGE).joinpath("resources", name).read_bytes()


def router(docs_path: str, schema_path: str, title: str) -> APIRouter:
    """The page at `docs_path`, its assets under `docs_path`/assets/."""
    r = APIRouter(include_in_schema=False)
    base = f"{docs_path}/assets"

    @r.get(docs_path)
    def page() -> HTMLResponse:
        return HTMLResponse(PAGE.format(title=html.escape(title), base=base))

    @r.get(f"{base}/init.js")
    def init() -> Response:
        return Response(INIT.format(schema=json.dumps(schema_path)), media_type="text/javascript; charset=utf-8")

    @r.get(f"{base}/{{name}}")
    def asset(name: str) -> Response:
        media = ASSETS.get(name)
        if media is None:
            raise ApiError(404, "not_found", "no such file")
        return Response(_asset(name), media_type=media)

    return r


def is_asset(path: str, docs_path: str) -> bool:
    return path.startswith(f"{docs_path}/assets/")
