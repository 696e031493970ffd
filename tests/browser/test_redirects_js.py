"""The page script's go() follows the same redirect rule as the server (in Chromium)."""
from __future__ import annotations

from pathlib import Path

from tests.redirect_cases import CASES

SCRIPT = Path(__file__).resolve().parents[2] / "assets" / "gridwatch.js"
ORIGIN = "http://gw.test"


def test_page_script_goes_only_to_local_paths(browser):
    page = browser.new_page(bypass_csp=True)
    try:
        page.route(f"{ORIGIN}/**", lambda route: route.fulfill(
            status=200, content_type="text/html", body="<!doctype html><title>gw</title>"))
        page.goto(f"{ORIGIN}/start")
        page.add_script_tag(content=SCRIPT.read_text(encoding="utf-8"))
        got = page.evaluate("cases => cases.map(c => window.gridwatch.safePath(c))",
                            [c for c, _ in CASES])
        assert list(zip([c for c, _ in CASES], got, strict=True)) == CASES
        # a refused target leaves the page where it is; a local one is followed
        page.evaluate("() => window.gridwatch.go('/\\\\evil.example')")
        page.wait_for_timeout(200)
        assert page.url == f"{ORIGIN}/start"
        with page.expect_navigation():
            page.evaluate("() => window.gridwatch.go('/case/abc')")
        assert page.url == f"{ORIGIN}/case/abc"
    finally:
        page.close()
