"""The letters' plain-text templates are translated too (test_catalogs reads only .html)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from tests.unit.test_catalogs import _dutch

TEMPLATES = Path(__file__).resolve().parents[2] / "vogscreen" / "mail" / "templates"


def test_every_message_of_the_plain_text_letters_has_a_dutch_translation() -> None:
    dutch = _dutch()
    found = [
        (filename, lineno, message)
        for filename, lineno, message, _comments, _context in extract_from_dir(
            str(TEMPLATES),
            [("**.txt", "jinja2")],
            {"**.txt": {"extensions": "jinja2.ext.i18n"}},
            {"_": None, "gettext": None, "ngettext": (1, 2)},
        )
    ]
    assert len(found) > 10
    missing = [
        f"{filename}:{lineno}: {text!r}"
        for filename, lineno, message in found
        for text in (message if isinstance(message, tuple) else (message,))
        if not dutch.get(text)
    ]
    assert not missing, "plain-text letter messages without Dutch:\n" + "\n".join(missing)
