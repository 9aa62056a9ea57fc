"""Errors reach people as plain pages, never as tracebacks."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_an_unknown_page_gets_the_sites_404(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert b"We could not find that page" in response.content


def test_a_failure_gets_the_sites_500_without_a_traceback(settings):
    settings.ROOT_URLCONF = "tests.error_urls"
    settings.DEBUG = False

    response = Client(raise_request_exception=False).get("/broken/")

    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content
    assert b"RuntimeError" not in response.content
    assert b"Traceback" not in response.content


@pytest.mark.parametrize(
    "query",
    [
        "page=abc",
        "page=99999999999999999999999",
        "country=%00",
        "modality=%FF%FE",
        "q=" + "x" * 5000,
        "telehealth=maybe",
        "sort=",
        "country=US&country=",
        "language=EN",
        "unknown=1",
    ],
)
def test_malformed_search_parameters_never_fail(client, query):
    response = client.get("/providers/?" + query)

    assert response.status_code == 200
