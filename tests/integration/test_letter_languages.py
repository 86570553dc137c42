"""The hit and reminder letters through the catalogs: Dutch as before, English too."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from vogscreen.mail.board_letters import BoardLetter, compose_board_letter
from vogscreen.mail.compose import Letter, OutgoingMessage, TemplateSet

LETTER = Letter(
    "hit",
    "Stichting Noorderlicht",
    "J. de Vries",
    None,
    "VS-1-7",
    dt.date(2026, 8, 1),
    dt.date(2026, 6, 1),
)


def compose(kind: str, language: str) -> OutgoingMessage:
    return TemplateSet().compose(
        dataclasses.replace(LETTER, kind=kind),
        sender="v@x.nl",
        recipients=["hr@x.nl"],
        message_id="<a@b>",
        reply_to=None,
        now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
        language=language,
    )


def bodies(message: OutgoingMessage) -> tuple[str, str]:
    parsed = message.as_email()
    text, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def test_the_dutch_hit_letter_keeps_its_text() -> None:
    message = compose("hit", "nl")
    assert message.as_email()["Subject"] == (
        "Actie nodig: nieuwe VOG voor personeelsnummer onbekend (zaak VS-1-7)"
    )
    text, html = bodies(message)
    for line in (
        "Beste HR-medewerker van Stichting Noorderlicht,",
        "  Medewerker:        J. de Vries",
        "  Personeelsnummer:  onbekend",
        "  Zaaknummer:        VS-1-7",
        "Wat u moet doen:",
        "Met vriendelijke groet,",
        "vogscreen - continue VOG-screening onderwijs",
    ):
        assert line in text.splitlines()
    assert "Wat dat gegeven is, weten wij niet en staat niet in dit bericht." in text
    assert (
        "Vraag deze medewerker om vóór 1 augustus 2026 een nieuwe Verklaring Omtrent het Gedrag"
        " (VOG) aan te vragen voor het onderwijs (screeningsprofiel 60) en die aan u te"
        " overleggen." in text
    )
    assert "<strong>vóór 1 augustus 2026</strong>" in html
    assert "<strong>screeningsprofiel 60</strong>" in html
    assert '<th align="left">Zaaknummer</th><td>VS-1-7</td>' in html


def test_the_dutch_reminder_keeps_its_text() -> None:
    message = compose("reminder", "nl")
    assert message.as_email()["Subject"] == "Herinnering: zaak VS-1-7 staat nog open"
    text, html = bodies(message)
    assert "Herinnering: zaak VS-1-7 staat nog open sinds 1 juni 2026." in text.splitlines()
    assert "dan sluit de zaak vanzelf." in text
    assert "<strong>Herinnering:</strong> zaak VS-1-7 staat nog open sinds 1 juni 2026." in html


@pytest.mark.parametrize("kind", ["hit", "reminder"])
def test_the_letters_read_in_english_with_english_dates(kind: str) -> None:
    message = compose(kind, "en")
    parsed = message.as_email()
    assert parsed["Content-Language"] == "en"
    text, html = bodies(message)
    assert "Dear HR officer of Stichting Noorderlicht," in text
    assert "before August 1, 2026" in text and "screening profile 60" in html
    assert "  Staff number:      unknown" in text.splitlines()
    for dutch in ("Beste", "vóór", "augustus", "onbekend", "Zaaknummer"):
        assert dutch not in text + html + str(parsed["Subject"])


BOARD_LETTERS = [
    BoardLetter("list_rejected", "Stichting X", "https://p.example/geschiedenis", LETTER.opened, 1),
    BoardLetter("list_held", "Stichting X", "https://p.example/", LETTER.opened, hold="older_file"),
    BoardLetter(
        "person_refused",
        "Stichting X",
        "https://p.example/",
        person_name="J. de Vries",
        personeelsnummer="P7",
        refusal="birth_date_mismatch",
    ),
]


def compose_board(letter: BoardLetter, language: str) -> tuple[str, str, str]:
    message = compose_board_letter(
        letter,
        sender="v@x.nl",
        recipients=["hr@x.nl"],
        message_id="<a@b>",
        reply_to=None,
        now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
        language=language,
    )
    text, html = bodies(message)
    return str(message.as_email()["Subject"]), text, html


def test_the_board_letters_say_their_reason_in_dutch() -> None:
    subjects, texts = zip(
        *(compose_board(letter, "nl")[:2] for letter in BOARD_LETTERS), strict=True
    )
    assert subjects == (
        "Uw personeelslijst is afgekeurd (1 fout)",
        "Uw personeelslijst wacht op uw bevestiging",
        "Controleer de gegevens van personeelsnummer P7",
    )
    assert "we hebben er 1 fout in gevonden" in texts[0]
    assert "Het bestand is opgeslagen vóór de lijst die al is verwerkt" in texts[1]
    assert "De geboortedatum op uw personeelslijst komt niet overeen" in texts[2]


def test_an_unknown_hold_or_refusal_code_still_reads_as_a_sentence() -> None:
    _, held, _ = compose_board(dataclasses.replace(BOARD_LETTERS[1], hold="new_code"), "nl")
    assert "De lijst wordt pas verwerkt als u deze bevestigt." in held
    _, refused, _ = compose_board(dataclasses.replace(BOARD_LETTERS[2], refusal=None), "nl")
    assert "De autoriteit heeft de aanmelding geweigerd." in refused


@pytest.mark.parametrize("letter", BOARD_LETTERS, ids=lambda letter: letter.kind)
def test_the_board_letters_read_in_english(letter: BoardLetter) -> None:
    subject, text, html = compose_board(letter, "en")
    assert "Dear HR officer of Stichting X," in text and "Go to the portal</a>" in html
    assert letter.portal_link in text.splitlines()
    for dutch in ("Beste", "personeelslijst", "Controleer", "fout", "groet"):
        assert dutch not in subject + text + html


HOSTILE = "Stichting {{ 7*7 }} {%% if 1 %%}<b>&\"%(x)s'{# #}"


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("letter", BOARD_LETTERS, ids=lambda letter: letter.kind)
def test_a_message_is_rendered_as_the_i18n_templates_render_it_whatever_the_values(
    letter: BoardLetter, language: str
) -> None:
    # The templates are translated once per language, then filled in: values that look
    # like template syntax or markup stay data, and come out as one direct rendering has it.
    hostile = dataclasses.replace(letter, board_name=HOSTILE, person_name=HOSTILE)
    templates = TemplateSet()
    message = templates.message(
        hostile.kind,
        hostile.template_values(language),
        "s",
        sender="v@x.nl",
        recipients=["hr@x.nl"],
        message_id="<a@b>",
        reply_to=None,
        now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
        language=language,
    )
    text, html = bodies(message)
    environment = templates.environment_of(language)
    for part, suffix in ((text, "txt"), (html, "html")):
        direct = environment.get_template(f"{hostile.kind}.{suffix}").render(
            hostile.template_values(language)
        )
        assert part.replace("\r\n", "\n") == direct
    assert HOSTILE in text and "49" not in text
    assert "Stichting {{ 7*7 }} {%% if 1 %%}&lt;b&gt;&amp;&#34;%(x)s&#39;{# #}" in html
