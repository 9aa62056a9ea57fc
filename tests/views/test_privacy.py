"""Privacy: what the site tells browsers to hold back, and what it keeps out of cookies and logs."""

import html
import logging
import re
import runpy

import pytest
from django.conf import settings
from django.core.servers.basehttp import WSGIRequestHandler

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic(make_provider):
    return make_provider(name="Harbour Clinic", city="Mombasa", country="KE", phone="+254722123456")


def public_pages(clinic):
    return ["/", "/providers/?country=KE&q=methadone", clinic.get_absolute_url(), "/about/", "/api/v1/providers/"]


def test_an_anonymous_searcher_is_given_no_cookies(client, clinic):
    for url in public_pages(clinic):
        response = client.get(url)

        assert response.status_code == 200, url
        assert not response.cookies, url
        assert not response.has_header("Set-Cookie"), url


def test_the_api_docs_set_no_cookie(client):
    """Swagger UI's "Try it out" only reads: the read-only API needs no CSRF token, so none is handed out."""
    docs = client.get("/api/docs/")
    script_url = re.search(r'<script src="([^"]*\?script=[^"]*)"', docs.content.decode())[1]
    script = client.get(html.unescape(script_url))

    for response in (docs, script, client.get("/api/schema/")):
        assert response.status_code == 200
        assert not response.cookies, response.request["PATH_INFO"]
    assert script["Content-Type"] == "application/javascript"
    assert b"SwaggerUIBundle(" in script.content


@pytest.mark.parametrize("form", ["/suggest/", "suggest-correction"])
def test_only_pages_with_a_form_set_the_csrf_cookie_and_send_same_origin(client, clinic, form):
    url = clinic.get_absolute_url() + "suggest/" if form == "suggest-correction" else form

    response = client.get(url)

    assert set(response.cookies) == {"csrftoken"}
    assert response["Referrer-Policy"] == "same-origin"


def test_the_admin_sign_in_page_sends_same_origin(client):
    assert client.get("/admin/login/")["Referrer-Policy"] == "same-origin"


def test_every_other_page_sends_no_referrer(client, clinic):
    for url in public_pages(clinic):
        assert client.get(url)["Referrer-Policy"] == "no-referrer", url


def test_every_response_limits_the_browser_features_a_page_may_use(client, clinic):
    for url in [*public_pages(clinic), "/suggest/", "/admin/login/", "/no-such-page/"]:
        assert client.get(url)["Permissions-Policy"] == (
            "geolocation=(self), camera=(), microphone=(), payment=(), usb=()"
        ), url


def directives(header):
    """The policy's directives by name; their order in the header is not fixed."""
    return dict(directive.strip().split(" ", 1) for directive in header.split(";") if directive.strip())


def test_the_content_security_policy_allows_this_site_and_the_map_tiles_only(client):
    header = client.get("/")["Content-Security-Policy"]
    policy = directives(header)

    assert policy == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data: https://tile.openstreetmap.org",
        "connect-src": "'self'",
        "frame-ancestors": "'none'",
        "form-action": "'self'",
        "base-uri": "'none'",
        "object-src": "'none'",
    }


def test_the_api_docs_alone_may_use_inline_styles_and_still_no_inline_script(client):
    docs = client.get("/api/docs/")
    policy = directives(docs["Content-Security-Policy"])

    assert policy["style-src"] == "'self' 'unsafe-inline'"
    assert policy["script-src"] == "'self'"
    assert "<script>" not in docs.content.decode()


def test_the_development_server_logs_requests_without_their_query_string(caplog):
    handler = WSGIRequestHandler.__new__(WSGIRequestHandler)
    handler.request = None
    handler.log_date_time_string = lambda: "24/Nov/2026 07:00:00"
    logger = logging.getLogger("django.server")
    logger.addHandler(caplog.handler)
    try:
        handler.log_message('"%s" %s %s', "GET /providers/?q=methadone&near=Mombasa HTTP/1.1", "200", "5120")
    finally:
        logger.removeHandler(caplog.handler)

    assert caplog.messages == ['"GET /providers/ HTTP/1.1" 200 5120']


def test_gunicorn_logs_requests_without_their_query_string_or_referer():
    access_log_format = runpy.run_path(str(settings.BASE_DIR / "gunicorn.conf.py"))["access_log_format"]
    # Only these of gunicorn's atoms are given: the request line (r), query (q) and Referer (f) would fail.
    atoms = {"h": "203.0.113.5", "l": "-", "u": "-", "t": "[24/Nov/2026:07:00:00 +0000]", "m": "GET"}
    atoms.update({"U": "/providers/", "H": "HTTP/1.1", "s": "200", "b": "5120", "a": "Mozilla/5.0"})

    line = access_log_format % atoms

    assert line == '203.0.113.5 - - [24/Nov/2026:07:00:00 +0000] "GET /providers/ HTTP/1.1" 200 5120 "Mozilla/5.0"'
