"""A wheel of the project, installed (not editable) into a fresh venv, runs `gridwatch demo`
from a directory that is not the checkout and serves its page scripts and the field terminal."""
from __future__ import annotations

import subprocess
import sys
import sysconfig
import urllib.request
from pathlib import Path

import pytest

from tests.support import ADMIN_BASIC, running_demo

ROOT = Path(__file__).resolve().parents[2]


def _get(url: str) -> bytes:
    """GET as the admin (HTTP Basic), asserting a 200."""
    req = urllib.request.Request(url, headers={"Authorization": ADMIN_BASIC})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200, url
        return r.read()


def _run(*cmd: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the wheel; the dependencies come from this venv's site-packages
    (a .pth line, which does not load the editable install's finder)."""
    base = tmp_path_factory.mktemp("wheel")
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", base / "dist", ROOT)
    wheel = next((base / "dist").glob("gridwatch-*.whl"))
    env = base / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", env)
    site = Path(_run(env / "bin/python", "-c",
                     "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(sys.executable, "-m", "pip", "--python", env / "bin/python", "install", "--quiet",
         "--no-deps", wheel)
    return env


def test_the_wheel_holds_the_package_not_the_checkout(venv: Path, tmp_path: Path) -> None:
    where = _run(venv / "bin/python", "-c",
                 "import dashboard.paths as p; print(p.__file__); print(p.assets_dir())",
                 cwd=tmp_path).split()
    assert all(str(venv) in w for w in where), where
    assert Path(where[1], "gridwatch.js").is_file()


def test_the_wheel_carries_the_compiled_catalogues(venv: Path, tmp_path: Path) -> None:
    out = _run(venv / "bin/python", "-c",
               "import layouts.i18n as i; d = i.locales_dir(); print(d); "
               "print(sorted(str(p.relative_to(d)) for p in d.rglob('*.mo'))); "
               "print(i.langs(), i.t('case.title', 'zh'), i.tn('overlay.grids', 2, 'en'))",
               cwd=tmp_path).splitlines()
    assert str(venv) in out[0], out
    assert out[1] == "['en/LC_MESSAGES/gridwatch.mo', 'zh_CN/LC_MESSAGES/gridwatch.mo']"
    assert out[2] == "('zh', 'en') 案件 2 base grids"


def test_an_installed_wheel_runs_the_demo_and_serves_its_scripts(
        venv: Path, demo_dir: Path, tmp_path: Path) -> None:
    with running_demo(demo_dir, tmp_path / "data", "--no-sim", "--history-days", "0",
                      cwd=tmp_path, script=venv / "bin/gridwatch") as demo:
        for url, source in ((f"{demo.url}/assets/gridwatch.js", "assets/gridwatch.js"),
                            (f"{demo.url}/m/static/app.js", "assets/field/app.js")):
            assert _get(url) == (ROOT / source).read_bytes(), url
        assert b"/assets/gridwatch.js" in _get(f"{demo.url}/")
