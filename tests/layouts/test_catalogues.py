"""Loading the gettext catalogues: a third locale is one more .po file; a compiled .mo is used
unless its .po is newer; an untranslated message falls back to the English source."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from layouts import i18n
from layouts.catalogues import DOMAIN, load_languages
from layouts.i18n import SOURCE, locales_dir
from layouts.map_view import view_query


def _po(locales: Path, name: str) -> Path:
    return locales / name / "LC_MESSAGES" / f"{DOMAIN}.po"


def _locales(tmp_path: Path) -> Path:
    """A copy of the project's locales/ without compiled files."""
    locales = tmp_path / "locales"
    shutil.copytree(locales_dir(), locales, ignore=shutil.ignore_patterns("*.mo"))
    return locales


def _add_french(locales: Path) -> None:
    """A French catalogue (as `pybabel init -l fr` starts one, French plural rules in its
    header) from the template: two messages translated, the rest not yet."""
    with (locales / f"{DOMAIN}.pot").open("rb") as f:
        template = read_po(f)
    cat = Catalog(locale="fr", domain=DOMAIN)
    done = {"case.title": "Dossier",
            "overlay.grids": ("{n} maille de base", "{n} mailles de base")}
    for m in template:
        if m.id:
            cat.add(m.id, done.get(m.context, ""), context=m.context)
    _po(locales, "fr").parent.mkdir(parents=True)
    with _po(locales, "fr").open("wb") as f:
        write_po(f, cat)


def test_a_third_locale_is_a_new_po_file(tmp_path: Path) -> None:
    locales = _locales(tmp_path)
    _add_french(locales)
    langs = load_languages(locales, SOURCE, "zh")
    assert list(langs) == ["zh", "en", "fr"]  # the default first
    fr = langs["fr"]
    assert fr.text("case.title") == "Dossier"
    assert fr.text("case.status") == "Status"  # not translated yet: the English source
    # French plural rules: 0 and 1 take the singular
    assert [fr.text("overlay.grids", n) for n in (0, 1, 2)] == [
        "{n} maille de base", "{n} maille de base", "{n} mailles de base"]
    assert fr.forms("overlay.grids")["one"] == "{n} maille de base"
    assert fr.forms("overlay.grids")["other"] == "{n} mailles de base"
    assert langs["zh"].text("case.title") == "案件"


def test_the_compiled_catalogue_is_used_unless_its_po_is_newer(tmp_path: Path) -> None:
    locales = _locales(tmp_path)
    po = _po(locales, "en")
    with po.open("rb") as f:
        cat = read_po(f, locale="en")
    cat.get("Case", context="case.title").string = "Case (compiled)"
    with po.with_suffix(".mo").open("wb") as f:
        write_mo(f, cat)
    assert load_languages(locales, SOURCE, "zh")["en"].text("case.title") == "Case (compiled)"
    past = po.stat().st_mtime - 60
    os.utime(po.with_suffix(".mo"), (past, past))  # the .po edited after the last compile
    assert load_languages(locales, SOURCE, "zh")["en"].text("case.title") == "Case"


def test_without_catalogues_the_texts_are_the_english_source(tmp_path: Path) -> None:
    langs = load_languages(tmp_path / "none", SOURCE, "zh")
    assert list(langs) == ["zh"] and langs["zh"].text("case.title") == "Case"
    assert langs["zh"].text("no.such.key") is None


def _clear_caches() -> None:
    for cached in (i18n._languages, i18n._catalogue, i18n.js_texts):
        cached.cache_clear()


@pytest.fixture()
def with_french(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The app's catalogues with a French .po added."""
    locales = _locales(tmp_path)
    _add_french(locales)
    monkeypatch.setattr(i18n, "locales_dir", lambda: locales)
    _clear_caches()
    yield
    monkeypatch.undo()
    _clear_caches()


def test_the_pages_offer_a_dropped_in_locale(with_french) -> None:
    assert i18n.langs() == ("zh", "en", "fr")
    assert i18n.norm_lang("fr-FR") == "fr" and i18n.html_lang("fr") == "fr"
    assert i18n.t("case.title", "fr") == "Dossier" and i18n.t("case.title", "zh") == "案件"
    assert i18n.tn("overlay.grids", 1, "fr") == "1 maille de base"
    assert i18n.switch_href("zh") == "/lang/en" and i18n.switch_href("en") == "/lang/fr"
    assert i18n.switch_href("fr") == "/lang/zh"
    assert view_query("fr", False) == "?lang=fr" and view_query("zh", True) == "?wall=1"
    assert '"case.left": "left"' in i18n.js_texts("fr")  # untranslated: the English source
