"""The redirect-target table shared by the Python and the page-script tests."""
from __future__ import annotations

# target → the path a redirect goes to (None: refused, the default "/" is used)
CASES: list[tuple[str, str | None]] = [
    ("/", "/"),
    ("/case/abc", "/case/abc"),
    ("/town/441900101?wall=1", "/town/441900101?wall=1"),
    ("/video?from=%2Fcity", "/video?from=%2Fcity"),
    ("//x", None),
    ("//evil.example/x", None),
    ("/\\x", None),
    ("/\\evil.example", None),
    ("/%5Cx", None),
    ("/%5cevil.example", None),
    ("/\t/x", None),
    ("/\n/x", None),
    ("/%09/x", None),
    ("/%0d%0aSet-Cookie:x=1", None),
    ("/%2F/x", None),
    ("/\x00x", None),
    ("\\\\x", None),
    ("https://x", None),
    ("http:/x", None),
    ("javascript:alert(1)", None),
    ("JaVaScRiPt:alert(1)", None),
    ("data:text/html,x", None),
    (" /x", None),
    ("x", None),
    ("", None),
]
