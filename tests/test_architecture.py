"""Imports go one way (DESIGN.md): gridwatch → dashboard → layouts → domain, dashboard → feeds →
domain; only the config loader (gridwatch/) reads the environment."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "domain": {"dashboard", "feeds", "layouts", "gridwatch", "redis", "cv2", "websockets", "dash",
               "flask"},
    "feeds": {"dashboard", "layouts", "gridwatch"},
    "layouts": {"dashboard", "feeds", "gridwatch", "redis", "cv2", "websockets", "flask"},
    "dashboard": {"gridwatch"},
}
BELOW_THE_LOADER = ("domain", "feeds", "layouts", "dashboard")
ENVIRON = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def imported_roots(path: Path) -> set[str]:
    """Top-level package names a module imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_the_design_allows(package):
    bad = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        wrong = imported_roots(path) & FORBIDDEN[package]
        if wrong:
            bad[str(path.relative_to(ROOT))] = sorted(wrong)
    assert bad == {}


def environment_reads(path: Path) -> list[int]:
    """Lines of a module that touch the process environment (os.environ, os.getenv …)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr in ENVIRON
                and isinstance(node.value, ast.Name) and node.value.id == "os"):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os" and any(
                a.name in ENVIRON for a in node.names):
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("package", BELOW_THE_LOADER)
def test_no_environment_read_below_the_config_loader(package):
    """Settings come down as typed sections of the tree gridwatch/config.py loads."""
    bad = {str(p.relative_to(ROOT)): lines for p in sorted((ROOT / package).rglob("*.py"))
           if (lines := environment_reads(p))}
    assert bad == {}


def test_no_polling_interval_for_live_data_and_no_raw_html():
    for package in ("dashboard", "layouts"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "dcc.Interval" not in text, path
            assert "dangerously_allow_html=True" not in text, path
    js = (ROOT / "assets" / "gridwatch.js").read_text(encoding="utf-8")
    assert "innerHTML" not in js
