"""Board-facing text, in Dutch (the default) or English, from gettext catalogs.

Everything a board or its HR reads (problem messages, reports, portal pages, letters) is
written in the code in English and marked for translation, and the Dutch is in the
catalogs under ``vogscreen/locale/nl/LC_MESSAGES/`` (one ``.po`` file per area: intake,
portal, mail; read together as one catalog). Babel reads the ``.po`` files when a language
is first used, so there is no compiled catalog to keep in step. English needs no catalog:
the message ids are the English text.

- :func:`msg` marks a message and its values: ``msg("line %(line)s is empty", line=3)``.
  The result is a :class:`Text`, rendered in a language only when someone reads it, so a
  stored report can be shown in either language. Values are ``%(name)s`` placeholders,
  as gettext and Jinja2's ``_()`` both use them; a literal percent sign is ``%%``.
- :func:`msg_n` is the same for a message with a singular and a plural.
- :func:`translations` gives the catalog of a language, for Jinja2's i18n extension.

``tests/unit/test_catalogs.py`` extracts every marked message from the code and the
templates (keywords ``msg``, ``msg_n``, ``_``, ``gettext``, ``ngettext``) and fails when one
lacks a Dutch translation, or when a translation drops or invents a placeholder.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"the language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    return language


@functools.cache
def translations(language: str = DEFAULT_LANGUAGE) -> NullTranslations:
    """The catalog of ``language``: every ``.po`` file of it, merged into one."""
    check_language(language)
    folder = resources.files("vogscreen.locale") / language / "LC_MESSAGES"
    merged: NullTranslations | None = None
    if folder.is_dir():
        for entry in sorted(folder.iterdir(), key=lambda item: item.name):
            if not entry.name.endswith(".po"):
                continue
            with entry.open("rb") as source:
                catalog = read_po(source, locale=language)
            compiled = io.BytesIO()
            write_mo(compiled, catalog)
            compiled.seek(0)
            loaded = Translations(compiled)
            if isinstance(merged, Translations):
                merged.merge(loaded)
            else:
                merged = loaded
    return merged if merged is not None else NullTranslations()


@dataclass(frozen=True)
class Text:
    """A message to be read in some language: its English id and its values."""

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)
    plural: str | None = None
    n: int | None = None

    def render(self, language: str = DEFAULT_LANGUAGE) -> str:
        catalog = translations(language)
        if self.plural is not None and self.n is not None:
            template = catalog.ngettext(self.msgid, self.plural, self.n)
        else:
            template = catalog.gettext(self.msgid)
        return template % {**self.params, **({"n": self.n} if self.n is not None else {})}

    def as_dict(self) -> dict[str, Any]:
        """The message as stored (in a rejected list's report), to be rendered later."""
        stored: dict[str, Any] = {"msgid": self.msgid, "params": dict(self.params)}
        if self.plural is not None:
            stored.update(plural=self.plural, n=self.n)
        return stored

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> Text:
        return cls(
            stored["msgid"], stored.get("params") or {}, stored.get("plural"), stored.get("n")
        )

    def __str__(self) -> str:
        return self.render("en")


def msg(msgid: str, /, **params: Any) -> Text:
    """Mark ``msgid`` (English, with ``%(name)s`` placeholders) for translation."""
    return Text(msgid, params)


def msg_n(singular: str, plural: str, n: int, /, **params: Any) -> Text:
    """Mark a message with a plural; ``%(n)s`` in it is ``n``."""
    return Text(singular, params, plural, n)
