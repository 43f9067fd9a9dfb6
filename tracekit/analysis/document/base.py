"""The base of every block of the analysis document: a msgspec Struct, keyword-only."""

from __future__ import annotations

import msgspec


class Block(msgspec.Struct, kw_only=True):
    """One object of the `tracekit.analysis/1` JSON (docs/json.md). Fields without a default were in
    every document since the previous release; those added since default to None, so older
    documents still decode."""

    # --- TRANSITION (typed-document migration, issue 17): dict-style reads for the consumers not yet
    # converted to attributes. Removed once report/, rules/ and compare/ read fields. ---------------
    def __getitem__(self, key: str):
        if key not in self.__struct_fields__:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value) -> None:
        setattr(self, key, value)

    def __contains__(self, key: str) -> bool:
        return key in self.__struct_fields__ and getattr(self, key) is not None

    def get(self, key: str, default=None):
        value = getattr(self, key, None) if key in self.__struct_fields__ else None
        return default if value is None else value

    def keys(self):
        return [k for k in self.__struct_fields__ if getattr(self, k) is not None]

    def items(self):
        return [(k, getattr(self, k)) for k in self.keys()]

    def values(self):
        return [getattr(self, k) for k in self.keys()]

    def __iter__(self):
        return iter(self.keys())
