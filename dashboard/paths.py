"""Where the web app's static files are: the wheel's copy by the package, else the checkout's."""
from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent
INSTALLED_ASSETS = "_assets"  # setup.py's build step copies assets/ here in a wheel


def assets_dir() -> Path:
    """The assets folder (CSS, JS, vendored libraries) the web app serves."""
    installed = _HERE / INSTALLED_ASSETS
    return installed if installed.is_dir() else _HERE.parent / "assets"
