"""Build step of the wheel: ship the top-level assets/ (and locales/, compiled) as package data.

Everything else is declared in pyproject.toml. In a checkout (and an editable install) the
web app serves assets/ where it is; a wheel carries a copy in dashboard/_assets and the
gettext catalogues in layouts/_locales, which dashboard.paths and layouts.i18n look for first.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DOMAIN = "gridwatch"  # the catalogues' gettext domain (layouts/catalogues.py DOMAIN)
COPIES = {"assets": ("dashboard", "_assets"), "locales": ("layouts", "_locales")}


def _compile_catalogues(locales: Path) -> None:
    """Compile every .po under locales into the .mo beside it, as `make install` does."""
    from babel.messages.frontend import CommandLineInterface

    CommandLineInterface().run(["pybabel", "-q", "compile", "-d", str(locales), "-D", DOMAIN])


class BuildWithFiles(build_py):
    """build_py, then the copies of the top-level static folders."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install serves the checkout's folders
            return
        for folder, (package, name) in COPIES.items():
            source = ROOT / folder
            if not source.is_dir():
                continue
            target = Path(self.build_lib) / package / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.mo", "*~"))
            if folder == "locales":
                _compile_catalogues(target)


setup(cmdclass={"build_py": BuildWithFiles})
