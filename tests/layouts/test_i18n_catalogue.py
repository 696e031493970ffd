"""The one message catalogue: both languages for every key, and every key the code asks for."""
from __future__ import annotations

import re
import string
from pathlib import Path

import yaml

from domain.cases import Action
from domain.model import Status
from domain.video import EventStatus, Health
from layouts import i18n
from layouts.camera_layer import LABEL_KEYS
from layouts.i18n import catalogue, category_name, has, keys, pick_lang, t

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u3400-\u9fff]")
# Literal keys in calls of t() and of the page helpers that prefix them.
CALLS = {"t": "", "vt": "video.", "text": "stats.", "_t": ""}
CALL = re.compile(r"""\b(t|vt|text|_t)\(\s*(f?)["']([^"']+)["']""")
PREFIX_OF_FILE = {"admin_view.py": "admin.", "track_view.py": "track.",
                  "audit_view.py": "auditlog."}
# Keys whose Chinese needs no Chinese characters, and the switch whose English is "中文".
NO_CJK_OK = {"stats.times.p90", "stats.hot.rank", "nav.lang_switch"}
EN_CJK_OK = {"nav.lang_switch"}


def _fields(s: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(s) if f}


def test_every_key_has_both_languages_with_the_same_fields():
    for key in keys():
        zh, en = t(key, "zh"), t(key, "en")
        assert zh.strip() and en.strip(), key
        assert CJK.search(zh) or key in NO_CJK_OK, f"{key}: no Chinese in {zh!r}"
        assert not CJK.search(en) or key in EN_CJK_OK, f"{key}: Chinese in English {en!r}"
        assert _fields(zh) == _fields(en), key


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
    wanted += [f"cam.{k}" for k in LABEL_KEYS] + [f"dur.{k}" for k in ("s", "m", "hm", "dh")]
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
    assert t("dur.hm", "en", h=3, m=5) == "3 h 5 min" and t("dur.hm", "zh", h=3, m=5) == \
        "3小时5分"
