"""Redirect targets: only same-origin relative paths pass (the page script's go() mirrors it)."""
from __future__ import annotations

import logging
import re
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

MAX_TARGET = 2048
# control characters (C0, DEL, C1) and backslashes: a browser reads a backslash as a slash and
# drops tabs and newlines, so `/\x` and `/\t/x` would lead to host x
_BAD = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")


def local_path(target: object) -> str | None:
    """`target` if it is a path on this origin (`/…`, not `//…`, no scheme, no host, no
    backslash or control character, also once percent-decoded), else None."""
    if not isinstance(target, str) or not target or len(target) > MAX_TARGET:
        return None
    for form in (target, unquote(target)):
        if _BAD.search(form) or not form.startswith("/") or form.startswith("//"):
            return None
    try:
        parts = urlsplit(target)
    except ValueError:
        return None
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    return target


def safe_target(target: object, default: str = "/") -> str:
    """The redirect target to use: `target` when it is a local path, else `default`."""
    path = local_path(target)
    if path is None and target:
        log.info("redirect target refused: %r", str(target)[:80])
    return path or default
