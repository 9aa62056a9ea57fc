"""Shared set-up for the tests that drive Debian's Chromium with Playwright against a live server."""

import shutil
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from django.conf import settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_MISSING = not shutil.which(CHROMIUM)
SKIP_REASON = f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)."

# Every browser test module's marks. Skipped only where Chromium is missing (CI installs it);
# serialized_rollback restores the migrated taxonomy and groups that the live-server flush empties.
BROWSER_TEST_MARKS = [
    pytest.mark.skipif(CHROMIUM_MISSING, reason=SKIP_REASON),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("restore_migrated_data"),
]


# Each language's URL prefix: English unprefixed, the others under /es/, /fr/, /pt/ and /ar/ (right to left).
LANGUAGE_PREFIXES = {code: "" if code == settings.LANGUAGE_CODE else f"/{code}" for code, _name in settings.LANGUAGES}


def on_live_server(url, live_server):
    return urlsplit(url).netloc == urlsplit(live_server.url).netloc


@contextmanager
def chromium_page(live_server, *, javascript=True, block_other_hosts=False, **context_options):
    """A phone-sized page in a fresh headless Chromium.

    Start it after the test's data exists and leave it before the database is
    flushed: while Playwright's event loop runs, Django sees another async
    context and would open another database connection.
    ``block_other_hosts`` still reports requests to other hosts, then drops them.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(
            java_script_enabled=javascript, viewport={"width": 390, "height": 844}, **context_options
        )
        if block_other_hosts:
            context.route(
                "**/*",
                lambda route: route.continue_() if on_live_server(route.request.url, live_server) else route.abort(),
            )
        try:
            yield context.new_page()
        finally:
            browser.close()
