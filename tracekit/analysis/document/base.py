"""The base of every block of the analysis document: a msgspec Struct, keyword-only."""

from __future__ import annotations

import os

import msgspec


class Block(msgspec.Struct, kw_only=True):
    """One object of the `tracekit.analysis/1` JSON (docs/json.md). Fields without a default were in
    every document since the previous release; those added since default to None, so older
    documents still decode."""

    # --- TRANSITION (typed-document migration, issue 17): dict-style reads for the consumers not yet
    # converted to attributes; TRACEKIT_STRICT_DOCUMENT=1 turns them into errors (a converted area's
    # tests pass with it). Removed once report/, rules/ and compare/ read fields. ---------------------
    def __getitem__(self, key: str):
        _transitional(self, key)
        if key not in self.__struct_fields__:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value) -> None:
        _transitional(self, key)
        setattr(self, key, value)

    def __contains__(self, key: str) -> bool:
        _transitional(self, key)
        return key in self.__struct_fields__ and getattr(self, key) is not None

    def get(self, key: str, default=None):
        _transitional(self, key)
        value = getattr(self, key, None) if key in self.__struct_fields__ else None
        return default if value is None else value

    def keys(self):
        _transitional(self, "keys()")
        return [k for k in self.__struct_fields__ if getattr(self, k) is not None]

    def items(self):
        return [(k, getattr(self, k)) for k in self.keys()]

    def values(self):
        return [getattr(self, k) for k in self.keys()]

    def __iter__(self):
        return iter(self.keys())


def _transitional(block: Block, key: str) -> None:
    if os.environ.get("TRACEKIT_STRICT_DOCUMENT"):
        raise TypeError(f"dict-style access {key!r} on {type(block).__name__}: read the field")
