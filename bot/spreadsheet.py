"""Cells of the CSV files staff open in a spreadsheet: what visitors wrote must not run there as a formula."""

from __future__ import annotations

from datetime import datetime

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """Text for a CSV cell: empty for None, ISO 8601 for a time, and text that a spreadsheet would run as a formula
    (starting with = + - @, a tab or CR, after any spaces) behind an apostrophe, as OWASP advises against CSV
    injection. Numbers are written as they are."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return "'" + value if value.lstrip(" ").startswith(FORMULA_START) else value
    return str(value)
