"""Header names: the canonical columns, the aliases HR systems use for them, and what a
report says of a header that lacks a required column."""

from __future__ import annotations

import re

from vogscreen.domain.language import Text, msg
from vogscreen.intake.cells import has_control_character
from vogscreen.intake.problems import could_be_secret, excerpt

REQUIRED = ("bsn", "geboortedatum", "achternaam")
OPTIONAL = (
    "tussenvoegsel",
    "voorletters",
    "voornamen",
    "personeelsnummer",
    "brin",
    "functie",
    "datum_in_dienst",
    "datum_uit_dienst",
    "vog_datum",
)
CANONICAL = REQUIRED + OPTIONAL

_ALIASES: dict[str, tuple[str, ...]] = {
    "bsn": ("burgerservicenummer", "bsn_nummer", "bsnnummer", "sofinummer", "sofi_nummer"),
    "geboortedatum": ("geb_datum", "geboorte_datum", "gebdatum", "date_of_birth", "birth_date"),
    "achternaam": ("geslachtsnaam", "naam", "familienaam", "surname", "last_name"),
    "tussenvoegsel": ("tussenvoegsels", "voorvoegsel", "voorvoegsels", "prefix"),
    "voorletters": ("initialen", "initials"),
    "voornamen": ("voornaam", "roepnaam", "first_name", "first_names"),
    "personeelsnummer": (
        "personeelsnr",
        "pers_nr",
        "persnr",
        "medewerkernummer",
        "werknemersnummer",
        "employee_number",
    ),
    "brin": ("brinnummer", "brin_nummer", "brin_code", "brincode", "instellingscode"),
    "functie": ("functienaam", "function", "functieomschrijving"),
    "datum_in_dienst": (
        "in_dienst",
        "indienst",
        "begindatum",
        "startdatum",
        "ingangsdatum",
        "datum_indiensttreding",
    ),
    "datum_uit_dienst": ("uit_dienst", "uitdienst", "einddatum", "datum_uitdiensttreding"),
    "vog_datum": ("datum_vog", "vog", "vog_afgiftedatum", "afgiftedatum_vog", "datum_afgifte_vog"),
}

_LOOKUP = {name: name for name in CANONICAL} | {
    alias: name for name, aliases in _ALIASES.items() for alias in aliases
}
_SEPARATORS = re.compile(r"[\s\-_./:]+")
# How many of the header's names a missing_column message lists.
_DESCRIBED_NAMES = 30


def normalise(header: str) -> str:
    return _SEPARATORS.sub("_", header.strip().lower()).strip("_")


def canonical(header: str) -> str | None:
    """The canonical column a header stands for, or None for a column we do not use."""
    return _LOOKUP.get(normalise(header))


def missing_column(column: str, header: list[str]) -> Text:
    """A required column is missing: which, and what the header holds instead (never values
    that could be secret)."""
    if any(could_be_secret(name) or has_control_character(name) for name in header):
        return msg(
            "the required column %(column)s is missing (the first line holds values, not "
            "column names: a title above the header, or no header row at all?)",
            column=repr(column),
        )
    names = [excerpt(name) for name in header if name]
    if len(names) > _DESCRIBED_NAMES:
        return msg(
            "the required column %(column)s is missing (the header has: %(names)s and "
            "%(more)s more)",
            column=repr(column),
            names=", ".join(names[:_DESCRIBED_NAMES]),
            more=len(names) - _DESCRIBED_NAMES,
        )
    return msg(
        "the required column %(column)s is missing (the header has: %(names)s)",
        column=repr(column),
        names=", ".join(names) or "-",
    )
