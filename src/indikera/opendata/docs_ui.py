"""Interactive API documentation served from this host: Swagger UI from the ``swagger-ui-bundle-v2``
package (no CDN), or, without that package, a plain page listing the operations."""

from __future__ import annotations

import html
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

try:  # optional: the assets ship in a PyPI package
    from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - exercised only without the package
    swagger_ui_path = None

SWAGGER_PAGE = """<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({{url: "openapi.json", dom_id: "#swagger-ui", deepLinking: true}});</script>
</body></html>"""


def _plain_page(schema: dict[str, Any]) -> str:
    rows = []
    for path, ops in schema.get("paths", {}).items():
        for method, op in ops.items():
            params = ", ".join(p["name"] for p in op.get("parameters", []))
            rows.append(f"<tr><td>{method.upper()}</td><td><code>{html.escape(path)}</code></td>"
                        f"<td>{html.escape(op.get('summary', ''))}</td><td>{html.escape(params)}</td></tr>")
    return (f"<!doctype html><html lang='sv'><head><meta charset='utf-8'><title>{html.escape(schema['info']['title'])}</title></head>"
            f"<body><h1>{html.escape(schema['info']['title'])}</h1><p><a href='openapi.json'>openapi.json</a></p>"
            f"<table><tr><th>Metod</th><th>Sökväg</th><th>Vad</th><th>Parametrar</th></tr>{''.join(rows)}</table></body></html>")


def install(api: FastAPI) -> None:
    """``/docs`` (relative to the API's mount point) and its assets."""
    if swagger_ui_path is not None:
        from fastapi.staticfiles import StaticFiles

        api.mount("/docs/assets", StaticFiles(directory=str(swagger_ui_path)), name="opendata-docs-assets")

    @api.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        if swagger_ui_path is None:
            return HTMLResponse(_plain_page(api.openapi()))
        return HTMLResponse(SWAGGER_PAGE.format(title=html.escape(api.title)))
