"""Header names: the canonical columns and the aliases HR systems use for them."""

from __future__ import annotations

import re

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


def normalise(header: str) -> str:
    return _SEPARATORS.sub("_", header.strip().lower()).strip("_")


def canonical(header: str) -> str | None:
    """The canonical column a header stands for, or None for a column we do not use."""
    return _LOOKUP.get(normalise(header))
