"""Message catalogue: the UI's texts by key from the gettext catalogues in locales/ (Babel;
zh_CN the default, en), t(key, lang); a new locale is a new .po file."""
from __future__ import annotations

import json
import logging
import re
from functools import cache
from pathlib import Path

from domain.alerts import LEVELS
from domain.model import CATEGORIES, STATUSES
from layouts.catalogues import Language, load_languages
from layouts.messages import MESSAGES, Message
from layouts.messages_field import FIELD_MESSAGES

log = logging.getLogger(__name__)

DEFAULT_LANG = "zh"
_HERE = Path(__file__).resolve().parent
INSTALLED_LOCALES = "_locales"  # setup.py's build step puts the compiled locales/ here in a wheel

__all__ = ["CATEGORIES", "LEVELS", "STATUSES"]  # the domain's codes, re-exported for layouts

SOURCE: dict[str, Message] = {m.key: m for m in (*MESSAGES, *FIELD_MESSAGES)}


def locales_dir() -> Path:
    """The folder of the gettext catalogues: the wheel's copy by the package, else the
    checkout's locales/."""
    installed = _HERE / INSTALLED_LOCALES
    return installed if installed.is_dir() else _HERE.parent / "locales"


@cache
def _languages() -> dict[str, Language]:
    """Every locale's catalogue, loaded once per process (the default language first)."""
    return load_languages(locales_dir(), SOURCE, DEFAULT_LANG)


def langs() -> tuple[str, ...]:
    """The languages there are catalogues for ("zh", "en" ...), the default first."""
    return tuple(_languages())


def html_lang(lang: str) -> str:
    """A language's BCP 47 tag for HTML's lang attribute ("zh-CN", "en")."""
    locale = _languages()[norm_lang(lang)].locale
    return "-".join(p for p in (locale.language, locale.territory) if p)


def norm_lang(lang: str | None) -> str:
    """The supported language for a requested one ("en-GB" → "en"; the default if none)."""
    code = re.match(r"[a-z]*", (lang or "").lower()).group()
    return code if code in _languages() else DEFAULT_LANG


def t(key: str, lang: str = DEFAULT_LANG, **fmt: object) -> str:
    """The text of a message key in a language ({name} fields filled from fmt; a plural
    message's form chosen by its count n); the key itself if it is unknown."""
    languages = _languages()
    language = languages.get(lang) or languages[norm_lang(lang)]  # mostly a code already
    text = language.text(key, fmt.get("n"))
    if text is None:
        log.warning("no message %s in the catalogue", key)
        return key
    return text.format(**fmt) if fmt else text


def tn(key: str, n: int, lang: str = DEFAULT_LANG, **fmt: object) -> str:
    """A plural message's text for the count n (its {n})."""
    return t(key, lang, n=n, **fmt)


def level_name(level: str | None, lang: str = DEFAULT_LANG) -> str:
    """The display name of an alert level (or of "no open cases" for None)."""
    return t(f"level.{level}" if level else "level.none", lang)


def category_name(code: str, lang: str = DEFAULT_LANG) -> str:
    """The display name of a case category; the code itself for one not in the catalogue."""
    key = f"cat.{code}"
    return t(key, lang) if key in SOURCE else code


def status_name(code: str, lang: str = DEFAULT_LANG) -> str:
    """The display name of a case status; the code itself for one not in the catalogue."""
    key = f"status.{code}"
    return t(key, lang) if key in SOURCE else code


def pick_lang(url: str | None, saved: str | None, default: str | None) -> str:
    """The language of a page: the URL's ?lang= first, then the user's saved choice, then the
    settings' default."""
    for lang in (url, saved, default):
        if lang:
            return norm_lang(lang)
    return DEFAULT_LANG


def lang_query(lang: str, sep: str = "?") -> str:
    """The query that keeps a page's language on a link ("?lang=en"; "" for the default)."""
    code = norm_lang(lang)
    return "" if code == DEFAULT_LANG else f"{sep}lang={code}"


def next_lang(lang: str) -> str:
    """The language the switch goes to: the next one (zh → en → zh)."""
    codes = langs()
    return codes[(codes.index(norm_lang(lang)) + 1) % len(codes)]


def switch_href(lang: str) -> str:
    """The language switch's link: to the next language (zh → en → zh), remembered for the
    user (dashboard/lang.py answers it and goes back to the page)."""
    return "/lang/" + next_lang(lang)


POPUP_KEYS = ("cat.", "status.", "level.", "popup.", "age.", "dur.", "officer.")  # markers, popups
# what the page scripts write: cases.js's countdowns, gridwatch.js's own case markers
JS_KEYS = ("dur.", "case.left", "case.overdue", *POPUP_KEYS)


@cache
def js_texts(lang: str) -> str:
    """The JSON blob of texts the page's scripts write (the root's data-i18n attribute)."""
    return json.dumps(catalogue(lang, JS_KEYS), ensure_ascii=False)


FIELD_KEYS = ("m.", "cat.", "status.", "level.", "nav.lang_switch")  # the field terminal's


def field_texts(lang: str) -> dict[str, str]:
    """The texts the field terminal /m/ shows (served to it as JSON, kept for offline use)."""
    return catalogue(lang, FIELD_KEYS)


def dropdown_labels(lang: str) -> dict[str, str]:
    """The texts a dcc.Dropdown shows itself (search, clear, none found ...)."""
    return {k[3:]: v for k, v in catalogue(lang, ("dd.",)).items()}


def has(key: str) -> bool:
    """Whether the catalogue holds a message key."""
    return key in SOURCE


def keys() -> list[str]:
    """Every message key in the catalogue."""
    return list(SOURCE)


def catalogue(lang: str, prefixes: tuple[str, ...] = ()) -> dict[str, str | dict[str, str]]:
    """The messages of a language for the page scripts (only keys starting with one of
    prefixes, if given); a plural message as its forms by CLDR plural category."""
    return dict(_catalogue(norm_lang(lang), prefixes))


@cache
def _catalogue(lang: str, prefixes: tuple[str, ...]) -> tuple[tuple[str, str | dict], ...]:
    language = _languages()[lang]
    return tuple((k, language.value(k)) for k in SOURCE if not prefixes or k.startswith(prefixes))
