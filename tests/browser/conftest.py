"""Browser fixtures: headless Debian Chromium driven by Playwright."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import CHROMIUM, CHROMIUM_ARGS

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium with a fresh temporary profile, one per test module."""
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()
