"""Measure what an app server process costs: its memory after a mix of requests, and how long its first
place search takes.

A benchmark, not a test: ``make bench-memory`` runs it on the real-shaped benchmark database. It
starts gunicorn with one sync worker and this process's settings, sends the worker's first request
(a search near a place, so the time includes whatever the first place search loads), then a mix:
20 searches near different places, filtered searches, API calls and provider pages, in the five
languages in turn; and reads the worker's resident memory from /proc before and after.
"""

import json
import random
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote
from urllib.request import urlopen

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from devtools.management.commands.bench_search import add_data_arguments, ensure_providers
from providers.models import Provider

PLACE_SEARCHES = 20
OTHER_REQUESTS = 10
LANGUAGE_PREFIXES = [f"/{code}" if code != settings.LANGUAGE_CODE else "" for code, _name in settings.LANGUAGES]


class Command(BaseCommand):
    help = "Measure an app server process's memory after a mix of requests, and its first place search's time."

    def add_arguments(self, parser):
        add_data_arguments(parser)
        parser.add_argument("--port", type=int, default=8767)
        parser.add_argument("--output", type=Path, help="Also write the results as JSON here.")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, providers, data, port, output, seed, **options):
        if providers is not None:
            ensure_providers(providers, data, self.stdout)
        published = Provider.objects.published()
        if not published.exists():
            raise CommandError("No published providers: run it on a benchmark database (make bench-memory).")
        rng = random.Random(seed)
        requests = self._requests(published, rng)
        base = f"http://127.0.0.1:{port}"
        with _Server(port) as server:
            worker = server.worker()
            booted = _memory(worker)
            started = time.perf_counter()
            _get(base + requests[0])
            first_place_ms = (time.perf_counter() - started) * 1000
            for path in requests[1:]:
                _get(base + path)
            after = _memory(worker)
        results = {
            "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
            "listings": published.count(),
            "requests": len(requests),
            "first_place_search_ms": round(first_place_ms, 1),
            "rss_booted_mb": booted["VmRSS"],
            "rss_after_mb": after["VmRSS"],
            "rss_peak_mb": after["VmHWM"],
        }
        self.stdout.write(
            f"first place search {results['first_place_search_ms']} ms; resident memory {results['rss_booted_mb']} MB "
            f"booted, {results['rss_after_mb']} MB after {len(requests)} requests (peak {results['rss_peak_mb']} MB)"
        )
        if output:
            output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    def _requests(self, published, rng):
        """The first request (a place search), then the mix, in a fixed order drawn from the data."""
        cities = [
            f"{city}, {country}"
            for city, country, _n in published.exclude(city="")
            .values_list("city", "country")
            .annotate(n=Count("pk"))
            .order_by("-n")[: PLACE_SEARCHES * 5]
        ]
        places = rng.sample(cities, min(PLACE_SEARCHES, len(cities)))
        slugs = list(published.order_by("?").values_list("slug", flat=True)[:OTHER_REQUESTS])
        searches = ["modality=mat", "setting=outpatient", "q=recovery", "language=es", "country=US&setting=inpatient"]
        mix = [f"/providers/?near={quote(place)}&radius=50" for place in places]
        mix += [
            f"/providers/?{searches[number % len(searches)]}&page={number // len(searches) + 1}"
            for number in range(OTHER_REQUESTS)
        ]
        mix += [f"/api/v1/providers/?{searches[number % len(searches)]}" for number in range(OTHER_REQUESTS)]
        mix += [f"/providers/{quote(slug)}/" for slug in slugs]
        first, rest = mix[0], mix[1:]
        rng.shuffle(rest)
        paths = [first, *rest]
        # The API has no language prefix; pages take the five languages in turn.
        return [
            path if path.startswith("/api/") else LANGUAGE_PREFIXES[number % len(LANGUAGE_PREFIXES)] + path
            for number, path in enumerate(paths)
        ]


class _Server:
    """gunicorn with one sync worker on ``port``, with this process's environment; stopped on exit."""

    def __init__(self, port):
        self.port = port

    def __enter__(self):
        command = [sys.executable, "-m", "gunicorn", "directory.wsgi", "--bind", f"127.0.0.1:{self.port}"]
        command += ["--workers", "1", "--worker-class", "sync", "--no-control-socket"]
        self.process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60
        # Wait without a request, for the worker's first request is the measured one: until the port
        # answers and the worker has loaded the site (its CPU time stops growing).
        cpu = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CommandError("gunicorn stopped: " + self.process.stderr.read().decode()[-2000:])
            time.sleep(0.5)
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            except OSError:
                continue
            worker = self.worker()
            if worker is not None:
                previous, cpu = cpu, _cpu_ticks(worker)
                if cpu == previous:
                    return self
        raise CommandError("gunicorn's worker did not settle within 60 s.")

    def worker(self):
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return int(children[0]) if children else None

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=30)


def _get(url):
    with urlopen(url, timeout=60) as response:
        response.read()
        if response.status != 200:
            raise CommandError(f"{url}: status {response.status}")


def _cpu_ticks(pid):
    """User and system CPU time of process ``pid``, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _memory(pid):
    """VmRSS and VmHWM of process ``pid``, in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return {name: round(int(re.search(rf"{name}:\s+(\d+) kB", status)[1]) / 1024, 1) for name in ("VmRSS", "VmHWM")}
