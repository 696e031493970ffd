"""Calling the app's Dash callbacks over HTTP as the renderer does (for scope and CSRF tests)."""
from __future__ import annotations

import json
from typing import Any

from dashboard.auth import CSRF_COOKIE, CSRF_HEADER

PAGES_OUTPUT = ".._pages_content.children..._pages_store.data.."  # Dash Pages' router
PAGES_LOCATION, PAGES_CONTENT = "_pages_location", "_pages_content"


def render_payload(path: str, search: str = "") -> dict[str, Any]:
    """The body of Dash Pages' routing callback for a URL path (what the renderer posts)."""
    return {"output": PAGES_OUTPUT,
            "outputs": [{"id": PAGES_CONTENT, "property": "children"},
                        {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": PAGES_LOCATION, "property": "pathname", "value": path},
                       {"id": PAGES_LOCATION, "property": "search", "value": search}],
            "changedPropIds": [f"{PAGES_LOCATION}.pathname"], "state": []}


def page_of(response: dict[str, Any]) -> dict[str, Any]:
    """The page component tree in a routing callback's JSON answer."""
    return response["response"][PAGES_CONTENT]["children"]


def csrf_headers(http: Any) -> dict[str, str]:
    """The header the renderer sends: the CSRF cookie's value (none if there is no cookie)."""
    cookie = http.get_cookie(CSRF_COOKIE)
    return {CSRF_HEADER: cookie.value} if cookie else {}


def render(http: Any, path: str, search: str = "", headers: dict[str, str] | None = None
           ) -> tuple[int, str]:
    """POST the render callback; (status, the page as JSON text)."""
    r = http.post("/_dash-update-component", json=render_payload(path, search),
                  headers=csrf_headers(http) if headers is None else headers)
    return r.status_code, r.get_data(as_text=True)


def page_status(status: int, body: str) -> int:
    """The status a rendered page stands for: 403 / 404 message pages, else the HTTP status."""
    if status != 200:
        return status
    page = page_of(json.loads(body))
    status_of_message = page.get("props", {}).get("data-status")
    if status_of_message:
        return int(status_of_message)
    return 200
