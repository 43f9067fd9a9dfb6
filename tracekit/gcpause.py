"""Garbage collections paused while many acyclic objects are made (decoded events, replayed runs):
each collection would only rescan them."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Collections off inside the block, back on after it if they were on before."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
