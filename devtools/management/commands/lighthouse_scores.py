"""Lighthouse's mobile scores for the pages people use, in every language.

A measurement, not a test: ``make lighthouse`` serves the site with production
settings and runs this against it. Each page is audited ``--runs`` times and the
median of each category is reported, since the performance score moves between runs.
"""

import json
import statistics
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from providers.models import Provider

CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
# The measurements behind the performance score, plus what the page costs to download.
METRICS = {
    "first-contentful-paint": "FCP ms",
    "largest-contentful-paint": "LCP ms",
    "total-blocking-time": "TBT ms",
    "cumulative-layout-shift": "CLS",
    "total-byte-weight": "bytes",
}
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-background-networking"


def audited_pages():
    """(name, path) of the home page, a filtered result list, a provider page, "Help me choose" and a saved
    list of two providers, in English."""
    providers = list(Provider.objects.published().exclude(latitude=None).order_by("name")[:2])
    if len(providers) < 2:
        raise CommandError("Fewer than two published providers with coordinates: load the demo data first.")
    provider, other = providers
    return [
        ("home", "/"),
        ("results", "/providers/?modality=mat&setting=outpatient"),
        ("provider", provider.get_absolute_url()),
        ("choose", "/choose/"),
        ("list", f"/list/?p={provider.slug}&p={other.slug}"),
    ]


def in_language(path, code):
    return path if code == settings.LANGUAGE_CODE else f"/{code}{path}"


class Command(BaseCommand):
    help = "Run Lighthouse (mobile) on the pages people use (audited_pages), in every language; print the scores."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8765")
        parser.add_argument("--lighthouse", default=".lighthouse/node_modules/.bin/lighthouse")
        parser.add_argument("--runs", type=int, default=3)
        parser.add_argument("--output", type=Path, help="Write the medians as JSON here.")
        parser.add_argument(
            "--pages", nargs="+", help="Audit only these pages (home, results, provider, choose, list)."
        )

    def handle(self, *args, base_url, lighthouse, runs, output, pages, **options):
        results = []
        for code, _name in settings.LANGUAGES:
            for page, path in audited_pages():
                if pages and page not in pages:
                    continue
                url = base_url.rstrip("/") + in_language(path, code)
                scores = [self.audit(lighthouse, url) for _run in range(runs)]
                medians = {name: statistics.median(run[name] for run in scores) for name in scores[0]}
                results.append({"language": code, "page": page, "url": url, **medians})
                self.stdout.write(
                    f"{code:3} {page:9} "
                    + "  ".join(f"{category} {medians[category]:3.0f}" for category in CATEGORIES)
                    + "  "
                    + "  ".join(f"{label} {medians[label]:g}" for label in METRICS.values())
                )
        if output:
            output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    def audit(self, lighthouse, url, attempts=3):
        """One Lighthouse run with its default mobile emulation and throttling: scores out of 100 and METRICS.

        Lighthouse now and then fails to record a page load ("NO_NAVSTART"); such a run is retried.
        """
        for attempt in range(1, attempts + 1):
            try:
                return self.run_lighthouse(lighthouse, url)
            except CommandError as error:
                if attempt == attempts:
                    raise
                self.stderr.write(f"{error} (retrying)")

    def run_lighthouse(self, lighthouse, url):
        with tempfile.TemporaryDirectory() as folder:
            report = Path(folder) / "report.json"
            completed = subprocess.run(
                [
                    lighthouse,
                    url,
                    "--quiet",
                    "--output=json",
                    f"--output-path={report}",
                    f"--only-categories={','.join(CATEGORIES)}",
                    f"--chrome-flags={CHROME_FLAGS}",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if completed.returncode != 0 or not report.exists():
                raise CommandError(f"Lighthouse failed on {url}:\n{completed.stderr[-2000:]}")
            result = json.loads(report.read_text(encoding="utf-8"))
        scores = {category: round(result["categories"][category]["score"] * 100) for category in CATEGORIES}
        measured = {label: round(result["audits"][audit]["numericValue"], 3) for audit, label in METRICS.items()}
        return {**scores, **measured}
