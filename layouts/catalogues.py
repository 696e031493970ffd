"""The gettext catalogues of locales/ (Babel): one per locale, loaded once, texts by key."""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from layouts.messages import Message

log = logging.getLogger(__name__)

DOMAIN = "gridwatch"
SAMPLES = range(200)  # counts that show every plural category of a locale's integers


def load_translations(folder: Path) -> Translations | None:
    """A locale folder's catalogue: its compiled .mo, or its .po when the .mo is missing or
    older (a plain checkout); None if it has neither."""
    po, mo = (folder / "LC_MESSAGES" / f"{DOMAIN}{ext}" for ext in (".po", ".mo"))
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as f:
            return Translations(f, domain=DOMAIN)
    if not po.is_file():
        return None
    with po.open("rb") as f:
        catalog = read_po(f, locale=folder.name)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries left out, as pybabel compile does
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@dataclass
class Language:
    """One locale's texts: singular ones resolved once, plural ones by count."""

    code: str  # the app's language code: the locale's language ("zh" for zh_CN)
    locale: Locale
    translations: Translations
    messages: dict[str, Message]
    texts: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        tr = self.translations
        self.texts = {k: tr.pgettext(k, m.text) for k, m in self.messages.items()
                      if m.plural is None}

    def text(self, key: str, n: object = None) -> str | None:
        """A key's text (for a plural message, the form for count n); None if unknown."""
        found = self.texts.get(key)
        if found is not None:
            return found
        m = self.messages.get(key)
        if m is None or m.plural is None:
            return None
        count = n if isinstance(n, int) else 2  # no count given: the "many" form
        return self.translations.npgettext(key, m.text, m.plural, abs(count))

    def forms(self, key: str) -> dict[str, str]:
        """A plural message's forms by CLDR plural category ("one", "other" ...), which the
        page scripts pick with Intl.PluralRules."""
        tags: dict[str, int] = {}
        for n in SAMPLES:
            tags.setdefault(self.locale.plural_form(n), n)
        return {tag: self.text(key, n) or key for tag, n in tags.items()}

    def value(self, key: str) -> str | dict[str, str]:
        """What a page script gets for a key: the text, or a plural message's forms."""
        m = self.messages[key]
        return self.forms(key) if m.plural is not None else self.texts[key]


def load_languages(locales: Path, messages: dict[str, Message], default: str
                   ) -> dict[str, Language]:
    """Every locale under `locales` by its app code, the default first."""
    found: dict[str, Language] = {}
    for folder in sorted(p for p in locales.iterdir() if p.is_dir()) if locales.is_dir() else ():
        tr = load_translations(folder)
        if tr is None:
            continue
        locale = Locale.parse(folder.name)
        if locale.language in found:
            log.warning("two catalogues for language %s: %s ignored", locale.language, folder)
            continue
        found[locale.language] = Language(locale.language, locale, tr, messages)
    if default not in found:
        log.warning("no %s catalogue under %s: texts in English", default, locales)
        found[default] = Language(default, Locale.parse("en"), Translations(), messages)
    return {default: found.pop(default), **found}
