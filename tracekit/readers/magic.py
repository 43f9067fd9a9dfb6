"""The first bytes that name a container format several readers sniff (no imports: format detection
loads this for every input)."""

SQLITE_MAGIC = b"SQLite format 3\x00"
"""Every SQLite database file starts so: nsys exports and Ascend profiler DBs both are SQLite."""
