"""Reading a board-facing :class:`~vogscreen.domain.language.Text` in tests."""

from __future__ import annotations

from vogscreen.domain.language import LANGUAGES, Text


def en(text: Text | None) -> str:
    """The English text, which the assertions on wording check."""
    assert text is not None
    return text.render("en")


def every_language(text: Text | None) -> str:
    """The text in every language, one per line: for what must be in none of them."""
    assert text is not None
    return "\n".join(text.render(language) for language in LANGUAGES)
