"""Turn locust's CSV statistics from ``make loadtest`` into one table row per (database, users).

Each run directory (``bench/loadtest-<database>/``) holds the plan locust drew from
(``plan.json``) and one ``u<users>_stats.csv`` / ``u<users>_failures.csv`` pair per
concurrency. The rows are also written to ``bench/loadtest-<database>.json``.
"""

import csv
import json
import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

STATS = re.compile(r"^u(\d+)_stats\.csv$")


def read_rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def summary(row):
    return {
        "requests": int(row["Request Count"]),
        "failures": int(row["Failure Count"]),
        "requests_per_second": round(float(row["Requests/s"]), 1),
        "p50_ms": float(row["50%"]),
        "p99_ms": float(row["99%"]),
    }


class Command(BaseCommand):
    help = "Print and save the load test's results from locust's CSV files (make loadtest)."
    requires_system_checks = ()

    def add_arguments(self, parser):
        parser.add_argument("runs", nargs="+", type=Path, help="bench/loadtest-<database> directories.")
        parser.add_argument("--seconds", type=int, help="The length of each run, for the JSON file.")
        parser.add_argument("--server", default="", help="How the server ran (gunicorn options), for the JSON file.")

    def handle(self, *args, runs, seconds, server, **options):
        self.stdout.write(
            f"{'database':12} {'providers':>9} {'users':>5} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
            f"{'requests':>9} {'failures':>8}"
        )
        failed = []
        for run in runs:
            plan = json.loads((run / "plan.json").read_text(encoding="utf-8"))
            results = {
                "database": plan["database"],
                "providers": plan["providers"],
                "seconds": seconds,
                "server": server,
                "runs": [],
            }
            found = sorted((int(match[1]), path) for path in run.iterdir() if (match := STATS.match(path.name)))
            if not found:
                raise CommandError(f"{run}: no locust statistics (u<users>_stats.csv).")
            for users, path in found:
                rows = read_rows(path)
                total = next(row for row in rows if row["Name"] == "Aggregated")
                result = {"users": users, **summary(total)}
                result["by_page"] = {row["Name"]: summary(row) for row in rows if row["Name"] != "Aggregated"}
                failures = run / f"u{users}_failures.csv"
                result["failure_messages"] = [
                    {"name": row["Name"], "error": row["Error"], "occurrences": int(row["Occurrences"])}
                    for row in (read_rows(failures) if failures.exists() else [])
                ]
                # locust warns when its own process used more than 90 % of a core: the load generator,
                # not the server, may then have set the pace.
                log = run / f"u{users}.log"
                result["locust_cpu_warning"] = log.exists() and "CPU usage" in log.read_text(encoding="utf-8")
                results["runs"].append(result)
                self.stdout.write(
                    f"{plan['database']:12} {plan['providers']:>9} {users:>5} {result['requests_per_second']:>8.1f} "
                    f"{result['p50_ms']:>7.0f} {result['p99_ms']:>7.0f} {result['requests']:>9} {result['failures']:>8}"
                )
                if result["locust_cpu_warning"]:
                    self.stdout.write("    locust warned that its CPU usage went above 90 %: see " + str(log))
                for failure in result["failure_messages"][:5]:
                    self.stdout.write(f"    {failure['occurrences']} x {failure['name']}: {failure['error']}")
                if result["failures"]:
                    failed.append(f"{plan['database']} at {users} users")
            output = run.with_name(run.name + ".json")
            output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        if failed:
            raise CommandError("Failed requests: " + ", ".join(failed) + " (details in the JSON files).")
