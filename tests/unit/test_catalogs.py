"""Every board-facing message has a Dutch translation, with the same placeholders.

The messages are extracted from the code and the templates as ``pybabel extract`` would
(keywords ``msg``, ``msg_n``, ``_``, ``gettext``, ``ngettext``), so a message added without
its Dutch text fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from vogscreen.domain.language import Text, msg, msg_n, translations

PACKAGE = Path(__file__).resolve().parents[2] / "vogscreen"
KEYWORDS = {
    "msg": None,
    "msg_n": (1, 2),
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
}
METHODS = [
    ("**/templates/**.html", "jinja2"),
    ("**.py", "python"),
]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _extracted() -> dict[str, str]:
    """Each marked message id (and plural id), with where it was found."""
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE), METHODS, OPTIONS, KEYWORDS
    ):
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                found.setdefault(text, f"{filename}:{lineno}")
    return found


def _dutch() -> dict[str, str | tuple[str, ...]]:
    catalogs: dict[str, str | tuple[str, ...]] = {}
    for path in sorted((PACKAGE / "locale" / "nl" / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as source:
            for message in read_po(source, locale="nl"):
                if not message.id or message.fuzzy:
                    continue
                ids = message.id if isinstance(message.id, tuple) else (message.id,)
                for one in ids:
                    catalogs[one] = message.string
    return catalogs


def test_every_marked_message_has_a_dutch_translation() -> None:
    dutch = _dutch()
    missing = {
        text: where
        for text, where in _extracted().items()
        if not dutch.get(text) or (isinstance(dutch[text], tuple) and not all(dutch[text]))
    }
    assert not missing, "messages without a Dutch translation:\n" + "\n".join(
        f"  {where}: {text!r}" for text, where in sorted(missing.items(), key=lambda i: i[1])
    )


def test_a_translation_keeps_the_placeholders_of_its_message() -> None:
    wrong = []
    for text, translated in _dutch().items():
        for one in translated if isinstance(translated, tuple) else (translated,):
            if set(_PLACEHOLDER.findall(one)) - set(_PLACEHOLDER.findall(text)) - {"n"}:
                wrong.append((text, one))
            if set(_PLACEHOLDER.findall(text)) - set(_PLACEHOLDER.findall(one)) - {"n"}:
                wrong.append((text, one))
    assert not wrong, "translations whose placeholders differ:\n" + "\n".join(map(repr, wrong))


def test_the_extractor_sees_the_markers_this_test_relies_on() -> None:
    # The checks above would pass on nothing if extraction found no message at all.
    assert len(_extracted()) > 0


def test_a_text_renders_in_either_language_and_round_trips_as_stored() -> None:
    text = msg("line %(line)s", line=3)
    assert text.render("en") == "line 3"
    assert Text.from_dict(text.as_dict()) == text
    plural = msg_n("%(n)s problem", "%(n)s problems", 2)
    assert plural.render("en") == "2 problems"
    assert Text.from_dict(plural.as_dict()).render("en") == "2 problems"


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="language"):
        translations("de")
