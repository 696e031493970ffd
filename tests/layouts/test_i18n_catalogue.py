"""The message catalogue: the .po files hold every key in every locale, translated with the
same fields; Babel's template matches the source; every key the code asks for exists."""
from __future__ import annotations

import os
import re
import shutil
import string
import subprocess
from pathlib import Path

import pytest
import yaml
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from domain.cases import Action
from domain.model import Status
from domain.video import EventStatus, Health
from layouts import i18n
from layouts.camera_layer import LABEL_KEYS
from layouts.catalogues import DOMAIN
from layouts.i18n import catalogue, category_name, has, keys, locales_dir, pick_lang, t, tn

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u3400-\u9fff]")
# Literal keys in calls of t() and of the page helpers that prefix them.
CALLS = {"t": "", "vt": "video.", "text": "stats.", "_t": ""}
CALL = re.compile(r"""\b(t|vt|text|_t)\(\s*(f?)["']([^"']+)["']""")
PREFIX_OF_FILE = {"admin_view.py": "admin.", "track_view.py": "track.",
                  "audit_view.py": "auditlog."}
# Keys whose Chinese needs no Chinese characters (the duration joins: "{h}{m}"), and the switch
# whose English is "中文".
NO_CJK_OK = {"stats.times.p90", "stats.hot.rank", "nav.lang_switch", "dur.hm", "dur.dh"}
EN_CJK_OK = {"nav.lang_switch"}


def _fields(s: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(s) if f}


def _catalogues() -> dict[str, Catalog]:
    """Every locale's .po file, read as a translator's tool reads it."""
    found = {}
    for po in sorted(locales_dir().glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        with po.open("rb") as f:
            found[po.parts[-3]] = read_po(f)
    return found


def test_the_locales_are_zh_cn_and_en_with_their_plural_rules():
    cats = _catalogues()
    assert set(cats) == {"zh_CN", "en"} and i18n.langs() == ("zh", "en")
    assert (cats["zh_CN"].num_plurals, cats["en"].num_plurals) == (1, 2)
    assert i18n.html_lang("zh") == "zh-CN" and i18n.norm_lang("en-GB") == "en"


def test_every_po_file_holds_every_key_translated_with_the_same_fields():
    for name, cat in _catalogues().items():
        entries = {m.context: m for m in cat if m.id}
        assert set(entries) == set(keys()), name  # every key, none left over
        for key, m in entries.items():
            src = i18n.SOURCE[key]
            assert m.id == ((src.text, src.plural) if src.plural else src.text), (name, key)
            assert not m.fuzzy, (name, key)
            forms = m.string if isinstance(m.string, tuple) else (m.string,)
            assert len(forms) == (cat.num_plurals if src.plural else 1), (name, key)
            for form in forms:
                assert form.strip(), (name, key)
                assert _fields(form) == _fields(src.plural or src.text), (name, key, form)
                if name == "zh_CN":
                    assert CJK.search(form) or key in NO_CJK_OK, f"{key}: no Chinese: {form!r}"
                else:
                    assert not CJK.search(form) or key in EN_CJK_OK, f"{key}: Chinese: {form!r}"


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="no GNU gettext (scripts/system-deps.sh)")
def test_gnu_msgfmt_accepts_every_po_file_as_poedit_would():
    for po in sorted(locales_dir().glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        done = subprocess.run(["msgfmt", "--check", "--statistics", "-o", os.devnull, str(po)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "warning" not in done.stderr, done.stderr
        assert done.stderr.strip() == f"{len(keys())} translated messages.", po


def test_babel_extracts_the_template_from_the_message_source():
    with (locales_dir() / f"{DOMAIN}.pot").open("rb") as f:
        pot = {m.context: m.id for m in read_po(f) if m.id}
    keywords = {"msg": ((1, "c"), 2), "msgn": ((1, "c"), 2, 3)}
    extracted = {}
    for source in ("messages.py", "messages_field.py"):
        for _, msgid, _, context in extract_from_file(
                "python", ROOT / "layouts" / source, keywords=keywords):
            extracted[context] = msgid
    assert extracted == pot, "run `make catalogues`"
    assert len(pot) > 400 and pot["overlay.grids"] == ("{n} base grid", "{n} base grids")


def test_every_key_has_a_text_in_both_languages():
    for key in keys():
        assert t(key, "zh").strip() and t(key, "en").strip(), key


def used_keys() -> set[str]:
    """Every literal message key in layouts/ and dashboard/ (f-string keys by their prefix)."""
    found = set()
    for path in [*ROOT.glob("layouts/*.py"), *ROOT.glob("dashboard/*.py")]:
        if path.name == "i18n.py":
            continue
        for fn, is_f, key in CALL.findall(path.read_text(encoding="utf-8")):
            prefix = PREFIX_OF_FILE.get(path.name, "") if fn == "_t" else CALLS[fn]
            if fn == "text" and path.name != "stats_view.py":
                continue
            dynamic = (is_f and "{" in key) or key.endswith(".")  # f"x.{a}" or "x." + a
            found.add(prefix + key.split("{")[0] + ("*" if dynamic else ""))
    return found


def test_every_literal_key_in_the_code_exists():
    used = used_keys()
    assert len(used) > 150  # the scan finds the calls
    missing = sorted(k for k in used if not k.endswith("*") and not has(k))
    assert not missing, missing
    dynamic = sorted(k[:-1] for k in used if k.endswith("*"))
    for prefix in dynamic:  # an f-string key: some key carries its prefix
        assert any(k.startswith(prefix) for k in keys()), prefix


def test_keys_built_at_run_time_exist():
    wanted = [f"level.{lv}" for lv in i18n.LEVELS] + ["level.none"]
    wanted += [f"cat.{c}" for c in i18n.CATEGORIES] + [f"status.{s}" for s in Status]
    wanted += [f"act.{a}" for a in Action] + [f"ev.{k}" for k in (
        "reported", "status", "level", "assign", "escalate", "note", "refused")]
    wanted += [f"region.{lv}" for lv in ("city", "town", "village", "grid")]
    wanted += [f"conn.{s}" for s in ("connecting", "open", "closed")]
    wanted += [f"video.status.{s}" for s in EventStatus] + [f"cam.state.{h}" for h in Health]
    wanted += [f"video.reason.{r}" for r in ("red", "motion", "manual")]
    wanted += [f"cam.{k}" for k in LABEL_KEYS]
    wanted += [f"dur.{k}" for k in ("s", "m", "h", "d", "hm", "dh")]
    wanted += [f"kpi.open_{lv}" for lv in i18n.LEVELS]
    wanted += [f"o311.notice.{s}" for s in Status]
    assert not [k for k in wanted if not has(k)]
    assert set(i18n.STATUSES) == {s.value for s in Status}


def test_bundled_rule_categories_have_names():
    rules = yaml.safe_load((ROOT / "feeds/live/rules.yaml").read_text(encoding="utf-8"))
    codes = set(rules.get("categories", rules)) if isinstance(rules, dict) else set()
    assert codes and codes <= set(i18n.CATEGORIES)
    assert category_name("fire", "en") == "Fire" and category_name("unknown", "en") == "unknown"


def test_scripts_get_their_texts_and_precedence():
    assert set(catalogue("en", i18n.JS_KEYS)) >= {"case.left", "case.overdue", "dur.hm"}
    assert pick_lang("en", "zh", "zh") == "en" and pick_lang(None, "en", "zh") == "en"
    assert pick_lang(None, None, "en") == "en" and pick_lang("", None, None) == "zh"
    assert t("dur.hm", "en", h="3 h", m="5 min") == "3 h 5 min"
    assert t("dur.hm", "zh", h="3小时", m="5分") == "3小时5分"


def test_plurals_follow_each_locales_rules():
    assert tn("overlay.grids", 1, "en") == "1 base grid"
    assert tn("overlay.grids", 5, "en") == "5 base grids"
    assert tn("overlay.grids", 1, "zh") == tn("overlay.grids", 5, "zh").replace("5", "1")
    assert t("auditlog.shown", "en", n=1) == "1 entry shown"
    assert t("auditlog.shown", "en", n=0) == "0 entries shown"
    assert t("auditlog.shown", "zh", n=7) == "显示 7 条"
    # the page scripts get the forms by CLDR plural category (Intl.PluralRules picks one)
    assert catalogue("en", ("overlay.",))["overlay.grids"] == {
        "one": "{n} base grid", "other": "{n} base grids"}
    assert catalogue("zh", ("overlay.",))["overlay.grids"] == {"other": "{n} 个基础网格"}
