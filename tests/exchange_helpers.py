"""Shared helpers for the import and export tests."""

import csv
import io

from django.core.management import call_command

from providers.exchange.ours import COLUMNS


def write_our_csv(path, rows, columns=COLUMNS):
    """Write ``rows`` (dicts of column -> cell text) as our CSV at ``path``; return the path."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column, "") for column in columns})
    return path


def run(command, *args):
    """Run a management command; return what it printed."""
    out = io.StringIO()
    call_command(command, *[str(arg) for arg in args], stdout=out, stderr=out)
    return out.getvalue()
