"""Admin sign-in: repeated failures lock a username out from one address for a while (django-axes)."""

import datetime
import io
import logging
import os
import subprocess
import sys

import pytest
import time_machine
from axes.exceptions import AxesBackendRequestParameterRequired
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils import timezone

from directory.env import env_int

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PASSWORD = "curator-password"  # the curator fixture's
LIMIT = 5  # LOGIN_FAILURE_LIMIT's default
LOCKOUT = datetime.timedelta(minutes=30)  # LOGIN_LOCKOUT_MINUTES' default


def sign_in(client, username="curator", password="wrong-password", address="203.0.113.7", **headers):
    credentials = {"username": username, "password": password, "next": "/admin/"}
    return client.post(LOGIN, credentials, REMOTE_ADDR=address, **headers)


def fail(client, times, **kwargs):
    return [sign_in(client, **kwargs) for _ in range(times)][-1]


def signed_in(response):
    session = response.client.session
    return response.status_code == 302 and response["Location"] == "/admin/" and "_auth_user_id" in session


def locked_out(response):
    return response.status_code == 429 and b"Too many failed sign-ins" in response.content


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


# --- Locking out --------------------------------------------------------------------------------


def test_failures_below_the_limit_show_the_sign_in_form_again(client, curator):
    response = fail(client, LIMIT - 1)

    assert response.status_code == 200
    assert b"Please enter the correct username and password" in response.content


def test_the_fifth_failure_locks_the_username_out_from_that_address(client, curator):
    response = fail(client, LIMIT)

    assert locked_out(response)
    assert response["Retry-After"] == "1800"


def test_the_right_password_is_refused_while_locked_out(client, curator):
    fail(client, LIMIT)

    response = sign_in(client, password=PASSWORD)

    assert locked_out(response)
    assert "_auth_user_id" not in client.session


def test_the_lockout_page_says_when_to_try_again_and_nothing_about_the_account(client, curator):
    for_curator = fail(client, LIMIT)
    for_nobody = fail(client, LIMIT, username="no-such-user")

    assert b"Try again in 30\xc2\xa0minutes." in for_curator.content
    assert b"curator" not in for_curator.content
    assert for_nobody.status_code == for_curator.status_code
    assert for_nobody.content == for_curator.content


def test_the_lockout_ends_after_the_cool_off(client, curator, clock):
    fail(client, LIMIT)

    clock.shift(LOCKOUT + datetime.timedelta(seconds=1))

    assert signed_in(sign_in(client, password=PASSWORD))


def test_each_attempt_while_locked_out_starts_the_wait_again(client, curator, clock):
    fail(client, LIMIT)
    clock.shift(datetime.timedelta(minutes=20))
    sign_in(client)

    clock.shift(datetime.timedelta(minutes=20))
    assert locked_out(sign_in(client, password=PASSWORD))
    clock.shift(LOCKOUT + datetime.timedelta(seconds=1))
    assert signed_in(sign_in(client, password=PASSWORD))


def test_signing_in_clears_the_failures(client, curator):
    fail(client, LIMIT - 1)
    assert signed_in(sign_in(client, password=PASSWORD))
    client.logout()

    response = fail(client, LIMIT - 1)

    assert response.status_code == 200
    assert signed_in(sign_in(client, password=PASSWORD))


def test_the_same_username_from_another_address_is_not_locked_out(client, curator):
    fail(client, LIMIT, address="203.0.113.7")

    assert signed_in(sign_in(client, password=PASSWORD, address="198.51.100.20"))


def test_another_username_from_the_same_address_is_not_locked_out(client, curator, django_user_model):
    django_user_model.objects.create_user("colleague", password=PASSWORD, is_staff=True)
    fail(client, LIMIT, username="curator")

    assert signed_in(sign_in(client, username="colleague", password=PASSWORD))


# --- Which address --------------------------------------------------------------------------------


def test_x_forwarded_for_is_ignored_unless_proxies_are_trusted(client, curator):
    for number in range(LIMIT):
        response = sign_in(client, HTTP_X_FORWARDED_FOR=f"192.0.2.{number}")

    assert locked_out(response)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}


def test_behind_a_trusted_proxy_the_address_it_received_the_request_from_counts(client, curator, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The proxy (10.0.0.2) appends the address it was contacted from; what comes before it is the client's to forge.
    for number in range(LIMIT):
        response = sign_in(client, address="10.0.0.2", HTTP_X_FORWARDED_FOR=f"192.0.2.{number}, 203.0.113.7")

    assert locked_out(response)
    assert signed_in(sign_in(client, password=PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.20"))


@pytest.mark.parametrize("forwarded", ["", "not-an-address", "203.0.113.7:4431"])
def test_an_unusable_forwarded_address_falls_back_to_the_connection_s(client, curator, settings, forwarded):
    settings.TRUSTED_PROXY_COUNT = 1

    sign_in(client, address="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)

    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["10.0.0.2"]


# --- Logging --------------------------------------------------------------------------------------


def test_a_lockout_is_logged_with_the_address_but_not_the_typed_username(client, curator, caplog):
    with caplog.at_level(logging.WARNING):
        fail(client, LIMIT, username="curator-typed-this")

    lockouts = [record for record in caplog.records if "Locking out" in record.getMessage()]
    assert [record.levelno for record in lockouts] == [logging.WARNING]
    assert lockouts[0].name.startswith("axes")
    assert "203.0.113.7" in lockouts[0].getMessage()
    assert "curator-typed-this" not in caplog.text


def test_lockouts_reach_the_console_whatever_the_log_level_and_sign_ins_do_not(client, curator):
    root = logging.getLogger()
    console = next(handler for handler in root.handlers if handler.name == "console")
    stream, level = io.StringIO(), root.level
    previous = console.setStream(stream)
    root.setLevel(logging.ERROR)  # as with DJANGO_LOG_LEVEL=ERROR
    try:
        sign_in(client, password=PASSWORD)
        client.logout()
        fail(client, LIMIT)
    finally:
        console.setStream(previous)
        root.setLevel(level)

    assert "Locking out" in stream.getvalue()
    assert "Successful login" not in stream.getvalue()


# --- Configuration ------------------------------------------------------------------------------


def run_python(code, **environment):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "LOGIN_", "TRUSTED_"))}
    env.update(environment)
    return subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True)


def test_the_limit_the_lockout_and_the_proxies_come_from_the_environment():
    result = run_python(
        "import directory.settings as s; print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME, s.TRUSTED_PROXY_COUNT)",
        LOGIN_FAILURE_LIMIT="3",
        LOGIN_LOCKOUT_MINUTES="90",
        TRUSTED_PROXY_COUNT="2",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3", "1:30:00", "2"]


@pytest.mark.parametrize(("name", "value"), [("LOGIN_FAILURE_LIMIT", "0"), ("LOGIN_LOCKOUT_MINUTES", "-5")])
def test_a_limit_or_lockout_below_one_fails_loudly(monkeypatch, name, value):
    monkeypatch.setenv(name, value)

    with pytest.raises(ImproperlyConfigured, match=f"{name} must be at least 1; got '{value}'"):
        env_int(name, 5, minimum=1)


def test_management_commands_do_not_announce_axes():
    result = run_python("import sys; from django.core.management import execute_from_command_line; "
                        "execute_from_command_line(['manage.py', 'check'])",
                        DJANGO_SETTINGS_MODULE="directory.settings")  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "AXES" not in result.stdout + result.stderr


def test_signing_in_outside_a_request_is_refused_loudly_rather_than_unchecked(curator):
    # Every sign-in passes the lockout check, which needs the request: use force_login in tests, not login.
    with pytest.raises(AxesBackendRequestParameterRequired):
        authenticate(username="curator", password=PASSWORD)

    assert authenticate(HttpRequest(), username="curator", password=PASSWORD) == curator
