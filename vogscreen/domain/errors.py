"""Every error of vogscreen's own, in one tree.

::

    VogscreenError
    ├── ConfigurationError        settings or keys missing or wrong; stop and tell the operator
    │   └── DatabaseUnreachable   the database server cannot be reached (host and port named)
    ├── DatabaseNotReady          the schema is missing or behind; run ``vogscreen db upgrade``
    ├── DatabaseBusy              another process holds the (SQLite) database; try again
    ├── NotFound                  a board, staff list or case that does not exist
    ├── InvalidInput              a value given by the operator is malformed
    ├── StateConflict             the action does not fit the current state (e.g. confirm twice)
    ├── LeaseHeld                 another run holds the lease for this board
    ├── DeliveryError             a message was not delivered (``permanent``: never will be)
    └── AuthorityError            raised by adapters, translated from their transport
        ├── AuthorityUnavailable  transient: timeout, 5xx, 429 (retry later)
        └── AuthorityMisconfigured 401/403, bad URL: stop the run

An item the authority refuses (unknown BSN, birth date mismatch) is not an error: it
comes back as that item's :class:`~vogscreen.ports.authority.ItemResult` (``ok=False``), and
the rest of the batch carries on.

Messages never carry a BSN, birth date or offence detail: they are shown to operators
and logged.
"""

from __future__ import annotations


class VogscreenError(Exception):
    """Base of every error vogscreen raises on purpose."""


class ConfigurationError(VogscreenError):
    pass


class DatabaseUnreachable(ConfigurationError):
    pass


class DatabaseNotReady(VogscreenError):
    pass


class DatabaseBusy(VogscreenError):
    pass


class NotFound(VogscreenError):
    pass


class InvalidInput(VogscreenError):
    pass


class StateConflict(VogscreenError):
    pass


class LeaseHeld(VogscreenError):
    pass


class DeliveryError(VogscreenError):
    """A message was not delivered. ``permanent`` says whether trying again can help."""

    def __init__(self, message: str, *, permanent: bool, unreachable: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.unreachable = unreachable


class AuthorityError(VogscreenError):
    pass


class AuthorityUnavailable(AuthorityError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthorityMisconfigured(AuthorityError):
    pass
