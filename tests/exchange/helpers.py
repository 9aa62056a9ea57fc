"""Shared helpers for the import and export tests."""

import csv
import io

from django.core.management import call_command

from providers.exchange.formats.ours import COLUMNS


def write_our_csv(path, rows, columns=COLUMNS):
    """Write ``rows`` (dicts of column -> cell text) as a CSV with our columns, or ``columns``; return the path."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column, "") for column in columns})
    return path


def samhsa_row(**values):
    """A row of the SAMHSA 2015 directory (a real one), with ``values`` changed."""
    return {
        "Name1": "Shelby County Treatment Center",
        "Address1": "750 Highway 31 South",
        "City": "Alabaster",
        "State": "AL",
        "ZIP_Code": "35007",
        "Contact": "(205)216-0200",
        "Keys": "SA/MM/BU/OP/",
        "ID": "4041AL35007",
        "Longitude": "-86.78738528247351",
        "Latitude": "33.21345712673533",
        "Match Score": "100.0",
        **values,
    }


def run(command, *args):
    """Run a management command; return what it printed."""
    out = io.StringIO()
    call_command(command, *[str(arg) for arg in args], stdout=out, stderr=out)
    return out.getvalue()


def weekly(byday, opens_at, closes_at, **fields):
    """An HSDS schedule of weekly hours on the days of ``byday`` ("MO,TU")."""
    return {
        "id": f"sch-{byday}-{opens_at}",
        "freq": "WEEKLY",
        "byday": byday,
        "opens_at": opens_at,
        "closes_at": closes_at,
        **fields,
    }
