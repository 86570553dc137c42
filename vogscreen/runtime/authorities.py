"""Finding the screening-authority adapter by name, and raising test hits on the mock.

Adapters register in the entry-point group ``vogscreen.adapters`` as
``create(app) -> ScreeningAuthority``; ``VOGSCREEN_AUTHORITY`` names the one to use. The
core reaches the adapters only this way (and through :func:`adapter_module`), never by a
plain import: they are plug-ins, which the layering contract keeps above the runtime.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Protocol, cast, runtime_checkable

from vogscreen.domain.errors import ConfigurationError, NotFound, StateConflict
from vogscreen.ports.authority import ScreeningAuthority
from vogscreen.runtime.bootstrap import App
from vogscreen.store.references import subscription_refs_of

GROUP = "vogscreen.adapters"


@runtime_checkable
class HitRaiser(Protocol):
    """What the in-process mock can do beyond the port: play the authority's signal."""

    def raise_hit(self, subscription_ref: str) -> str: ...


def available_adapters() -> dict[str, EntryPoint]:
    return {entry.name: entry for entry in entry_points(group=GROUP)}


def load_authority(app: App) -> ScreeningAuthority:
    """The adapter named by ``settings.authority``, built for this application."""
    name = app.settings.authority
    adapters = available_adapters()
    entry = adapters.get(name)
    if entry is None:
        known = ", ".join(sorted(adapters)) or "none installed"
        raise ConfigurationError(
            f"VOGSCREEN_AUTHORITY={name!r} is not a known authority adapter (known: {known})"
        )
    create = cast(Callable[[App], object], entry.load())
    authority = create(app)
    if not isinstance(authority, ScreeningAuthority):
        raise ConfigurationError(f"the authority adapter {name!r} does not provide the port")
    return authority


@dataclass(frozen=True)
class RaisedHit:
    hit_id: str
    subscription_ref: str


def subscription_ref_of(app: App, board_number: str, personeelsnummer: str) -> str:
    """The authority's reference for the person a board currently employs under a number."""
    with app.sessions() as session:
        refs = subscription_refs_of(session, board_number, personeelsnummer)
    if not refs:
        raise NotFound(
            f"board {board_number} has no current employee with personeelsnummer "
            f"{personeelsnummer} who has a subscription"
        )
    if len(refs) > 1:
        raise StateConflict(
            f"board {board_number} has more than one current employee with personeelsnummer "
            f"{personeelsnummer}"
        )
    if refs[0] is None:
        raise StateConflict(
            f"the subscription of personeelsnummer {personeelsnummer} at board {board_number} "
            "has no authority reference yet: run `vogscreen reconcile` first"
        )
    return refs[0]


def raise_mock_hit(app: App, board_number: str, personeelsnummer: str) -> RaisedHit:
    """Have the mock authority signal a hit for an employee, in-process or over HTTP."""
    ref = subscription_ref_of(app, board_number, personeelsnummer)
    if app.settings.authority == "http":
        http = adapter_module("http")
        client = http.build_client(app.settings)
        try:
            hit_id = str(http.admin_raise_hit(client, ref))
        finally:
            client.close()
        return RaisedHit(hit_id, ref)
    with app.authority() as authority:
        if not isinstance(authority, HitRaiser):
            raise ConfigurationError(
                f"the authority adapter {app.settings.authority!r} cannot raise hits; "
                "only the mock authority (VOGSCREEN_AUTHORITY=mock or its server) can"
            )
        return RaisedHit(authority.raise_hit(ref), ref)


def adapter_module(name: str) -> ModuleType:
    return importlib.import_module(f"vogscreen.adapters.{name}")
