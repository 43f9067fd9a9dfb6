"""Nsight Systems inputs: SQLite export (primary), JSON export, `nsys stats` CSV, report files."""

from tracekit.readers.nsys.json_export import read_nsys_json, sniff_nsys_json
from tracekit.readers.nsys.report_file import read_nsys_report, sniff_nsys_report
from tracekit.readers.nsys.sqlite import SQLITE_MAGIC, read_nsys_sqlite, sniff_nsys_sqlite
from tracekit.readers.nsys.stats_csv import read_nsys_csv, sniff_nsys_csv

__all__ = [
    "SQLITE_MAGIC",
    "read_nsys_csv",
    "read_nsys_json",
    "read_nsys_report",
    "read_nsys_sqlite",
    "sniff_nsys_csv",
    "sniff_nsys_json",
    "sniff_nsys_report",
    "sniff_nsys_sqlite",
]
