"""The house rules (DESIGN.md "Layout" and "Conventions"): imports go one way, the demo's fakes
stay in feeds/sim, layouts do no I/O, only the config loader (gridwatch/) reads the environment,
modules and functions stay small."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("domain", "feeds", "layouts", "dashboard", "gridwatch")
ROOMS = ("store", "geo", "ingest", "live", "history", "video", "accounts", "ops", "sim")
IO = {"redis", "cv2", "websockets", "flask", "waitress", "socket", "subprocess", "requests",
      "urllib3", "aiohttp", "pandas", "pyarrow", "sqlite3"}
FORBIDDEN = {
    "domain": {"dashboard", "feeds", "layouts", "gridwatch", *IO, "dash"},
    "feeds": {"dashboard", "layouts", "gridwatch"},
    "layouts": {"dashboard", "feeds", "gridwatch", *IO},
    "dashboard": {"gridwatch"},
}
CATALOGUES = {"layouts/messages.py"}  # the message source (English texts) may be long
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
BELOW_THE_LOADER = ("domain", "feeds", "layouts", "dashboard")
ENVIRON = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def imports(path: Path) -> set[str]:
    """Full dotted names of the modules a file imports (absolute imports only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def sources(*packages: str) -> list[Path]:
    """Every .py file of the given top-level folders."""
    return [p for pkg in packages for p in sorted((ROOT / pkg).rglob("*.py"))]


def rel(path: Path) -> str:
    """A path relative to the checkout."""
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_the_design_allows(package):
    bad = {}
    for path in sources(package):
        wrong = {n.split(".")[0] for n in imports(path)} & FORBIDDEN[package]
        if wrong:
            bad[rel(path)] = sorted(wrong)
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
    bad = {rel(p): lines for p in sources(package) if (lines := environment_reads(p))}
    assert bad == {}


def test_feeds_is_made_of_the_rooms_and_nothing_else():
    loose = sorted(p.name for p in (ROOT / "feeds").glob("*.py") if p.name != "__init__.py")
    rooms = sorted(p.name for p in (ROOT / "feeds").iterdir()
                   if p.is_dir() and (p / "__init__.py").exists())
    assert loose == []
    assert rooms == sorted(ROOMS)


def test_only_the_demo_the_root_tests_and_benches_import_feeds_sim():
    allowed = ("feeds/sim/", "gridwatch/")
    bad = {rel(p): sorted(n for n in imports(p) if n == "feeds.sim" or n.startswith("feeds.sim."))
           for p in sources("domain", "feeds", "layouts", "dashboard")
           if not rel(p).startswith(allowed)}
    assert {k: v for k, v in bad.items() if v} == {}


def test_nothing_in_the_product_imports_the_composition_root():
    bad = [rel(p) for p in sources("domain", "feeds", "layouts", "dashboard")
           if any(n.split(".")[0] == "gridwatch" for n in imports(p))]
    assert bad == []


def test_modules_and_functions_stay_small():
    long_modules, long_functions = [], []
    for path in sources(*PRODUCT, "bench", "tests"):
        text = path.read_text(encoding="utf-8")
        if rel(path) not in CATALOGUES and len(text.splitlines()) > MAX_MODULE_LINES:
            long_modules.append(f"{rel(path)}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long_functions.append(f"{rel(path)}:{node.lineno} {node.name}: {n} lines")
    assert long_modules == []
    assert long_functions == []


def test_every_module_says_what_it_is_in_a_docstring():
    missing = [rel(p) for p in sources(*PRODUCT)
               if ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) is None]
    assert missing == []


def test_no_polling_interval_for_live_data_and_no_raw_html():
    for package in ("dashboard", "layouts"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "dcc.Interval" not in text, path
            assert "dangerously_allow_html=True" not in text, path
    for path in (ROOT / "assets").rglob("*.js"):
        if "vendor" not in path.parts:
            assert "innerHTML" not in path.read_text(encoding="utf-8"), path
