"""Driving the portal's ASGI app by hand, to count what it reads of a body."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to its end on an event loop of its own, in another thread: the
    browser tests' playwright keeps a loop running on this thread for the whole session,
    and asyncio.run() refuses to start beside it."""
    with ThreadPoolExecutor(max_workers=1) as apart:
        return apart.submit(asyncio.run, coroutine).result()
