"""Nsight Systems inputs: SQLite export (primary), JSON export, `nsys stats` CSV, report files.

Nothing is imported here: format detection needs only the light `sniff` module, and each reader
module (`sqlite`, `json_export`, `stats_csv`, `report_file`) is imported when its format is read.
"""
