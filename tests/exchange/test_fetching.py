"""Fetching a partner's feed: conditional GETs, redirects, limits, and never our own network.

The feeds are served by a real HTTP server on 127.0.0.1. That address is private, so most tests
allow private URLs; the guard's tests instead count 127.0.0.1 as public (the first hop) and check
that whatever else is private is refused before any connection is made.
"""

import contextlib
import http.client
import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from providers.exchange import fetching
from providers.exchange.fetching import Fetched, FetchError, fetch
from providers.exchange.records import ImportFileError

FEED = b"name,country\nOpen Door,GB\n"
ETAG = '"v1"'
LAST_MODIFIED = "Wed, 01 May 2024 10:00:00 GMT"
LIMIT = 1000
ENDLESS = 16 * 1024 * 1024  # far more than any test's limit


class FeedHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.seen.append((self.path, dict(self.headers)))
        path, _, query = self.path.partition("?")
        if path.startswith("/chain/"):
            return self.chain(int(path.removeprefix("/chain/")))
        routes = {
            "/feed.csv": self.feed,
            "/headers": self.echo_headers,
            "/old/moved": lambda: self.redirect(301, "../feed.csv"),
            "/redirect": lambda: self.redirect(302, parse_qs(query)["to"][0]),
            "/nowhere": lambda: self.reply(302),
            "/big": lambda: self.reply(200, b"x" * (LIMIT + 1)),
            "/big-undeclared": self.big_undeclared,
            "/big-chunked": self.big_chunked,
            "/short-length": self.short_length,
            "/slow": self.slow,
            "/broken": lambda: self.reply(500),
        }
        routes.get(path, lambda: self.reply(404))()

    def reply(self, status, body=b"", *headers):
        self.send_response(status)
        for header in headers:
            self.send_header(*header)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def feed(self):
        if self.headers.get("If-None-Match") == ETAG:
            self.send_response(304)
            self.send_header("ETag", ETAG)
            self.end_headers()
            return
        self.reply(200, FEED, ("Content-Type", "text/csv"), ("ETag", ETAG), ("Last-Modified", LAST_MODIFIED))

    def echo_headers(self):
        self.reply(200, json.dumps(dict(self.headers)).encode(), ("Content-Type", "application/json"))

    def redirect(self, status, location):
        self.reply(status, b"", ("Location", location))

    def chain(self, left):
        if left == 0:
            return self.feed()
        self.redirect(307, f"/chain/{left - 1}")

    def big_undeclared(self):
        # HTTP/1.0 without Content-Length: the body ends when the server closes the connection.
        self.send_response(200)
        self.end_headers()
        with contextlib.suppress(OSError):
            for _ in range(ENDLESS // 65536):
                self.wfile.write(b"x" * 65536)

    def big_chunked(self):
        self.protocol_version = "HTTP/1.1"
        self.close_connection = True
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"x" * 65536
        with contextlib.suppress(OSError):
            for _ in range(ENDLESS // len(chunk)):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")

    def short_length(self):
        self.send_response(200)
        self.send_header("Content-Length", "10")
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(b"y" * 10 + b"x" * ENDLESS)

    def slow(self):
        time.sleep(1)
        with contextlib.suppress(OSError):
            self.reply(200, FEED)

    def log_message(self, format, *args):
        pass


class FeedServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # clients hanging up mid-body is what several tests are about

    def url(self, path):
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    @property
    def port(self):
        return self.server_address[1]


@pytest.fixture(scope="module")
def running_server():
    server = FeedServer(("127.0.0.1", 0), FeedHandler)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def server(running_server):
    """The feed server, with the list of (path, headers) it was asked for during this test."""
    running_server.seen.clear()
    return running_server


@pytest.fixture
def allow_private(settings):
    settings.IMPORT_ALLOW_PRIVATE_URLS = True


@pytest.fixture
def loopback_counts_as_public(settings, monkeypatch):
    """The test server's 127.0.0.1 passes the guard; every other address is judged for real."""
    settings.IMPORT_ALLOW_PRIVATE_URLS = False
    is_public = fetching._is_public
    monkeypatch.setattr(fetching, "_is_public", lambda address: address == "127.0.0.1" or is_public(address))


@pytest.fixture
def connections(monkeypatch):
    """The addresses fetch connected to."""
    made = []
    create_connection = socket.create_connection

    def spy(address, *args, **kwargs):
        made.append(address[0])
        return create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", spy)
    return made


class FakeDNS:
    def __init__(self):
        self.answers = {}
        self.asked = []


@pytest.fixture
def dns(monkeypatch):
    """Answers for made-up host names (dns.answers["feeds.example"] = [...]); other names resolve as usual."""
    fake = FakeDNS()
    getaddrinfo = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host not in fake.answers:
            return getaddrinfo(host, port, *args, **kwargs)
        fake.asked.append(host)
        return [
            (socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
            for ip in fake.answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return fake


def failure(url, **kwargs):
    """The message fetch gives up with."""
    with pytest.raises(FetchError) as failed:
        fetch(url, **kwargs)
    return str(failed.value)


# Fetching and conditional requests


def test_it_fetches_a_file_with_its_validators(server, allow_private):
    fetched = fetch(server.url("/feed.csv"))

    assert fetched == Fetched(
        url=server.url("/feed.csv"),
        status=200,
        content=FEED,
        etag=ETAG,
        last_modified=LAST_MODIFIED,
        content_type="text/csv",
    )
    assert not fetched.not_modified


def test_an_unchanged_file_answers_not_modified_with_no_content(server, allow_private):
    fetched = fetch(server.url("/feed.csv"), etag=ETAG)

    assert fetched.not_modified
    assert (fetched.status, fetched.content, fetched.etag) == (304, b"", ETAG)
    assert server.seen[0][1]["If-None-Match"] == ETAG


def test_it_sends_its_user_agent_the_accept_header_and_both_validators(server, allow_private):
    fetched = fetch(server.url("/headers"), etag=ETAG, last_modified=LAST_MODIFIED, accept="application/json")

    sent = json.loads(fetched.content)
    assert sent["User-Agent"] == "treatment-directory-feed/1"
    assert sent["Accept"] == "application/json"
    assert sent["Accept-Encoding"] == "identity"
    assert sent["If-None-Match"] == ETAG
    assert sent["If-Modified-Since"] == LAST_MODIFIED
    assert sent["Host"] == f"127.0.0.1:{server.port}"


def test_without_validators_it_sends_no_conditional_headers(server, allow_private):
    sent = json.loads(fetch(server.url("/headers")).content)

    assert "If-None-Match" not in sent
    assert "If-Modified-Since" not in sent


def test_a_path_typed_with_spaces_is_sent_percent_encoded(server, allow_private):
    with pytest.raises(FetchError):
        fetch(server.url("/partner feeds/ü.csv?name=Open Door"))

    assert server.seen[0][0] == "/partner%20feeds/%C3%BC.csv?name=Open%20Door"


@pytest.mark.parametrize(("path", "answer"), [("/missing", "404 Not Found"), ("/broken", "500 Internal Server Error")])
def test_an_error_status_names_the_url_and_the_answer(server, allow_private, path, answer):
    assert failure(server.url(path)) == f"{server.url(path)} answered {answer}."


def test_a_fetch_error_is_an_import_file_error():
    assert issubclass(FetchError, ImportFileError)


# Redirects


def test_a_relative_redirect_resolves_against_the_current_url(server, allow_private):
    fetched = fetch(server.url("/old/moved"))

    assert fetched.url == server.url("/feed.csv")
    assert fetched.content == FEED


def test_an_absolute_redirect_is_followed(server, allow_private):
    fetched = fetch(server.url("/redirect?to=" + server.url("/feed.csv")))

    assert fetched.url == server.url("/feed.csv")
    assert fetched.content == FEED


def test_redirects_are_followed_up_to_the_limit(server, allow_private, settings):
    settings.IMPORT_MAX_REDIRECTS = 3

    assert fetch(server.url("/chain/3")).content == FEED


def test_more_redirects_than_the_limit_are_refused(server, allow_private, settings):
    settings.IMPORT_MAX_REDIRECTS = 3

    assert "redirected more than 3 times" in failure(server.url("/chain/4"))
    assert len(server.seen) == 4


def test_a_redirect_without_a_location_is_an_error(server, allow_private):
    assert "302 Found without saying where to" in failure(server.url("/nowhere"))


# Size limit


def test_a_declared_length_over_the_limit_is_refused_before_reading(server, allow_private, settings):
    settings.IMPORT_MAX_BYTES = LIMIT

    assert "larger than the 1,000 bytes a feed may be" in failure(server.url("/big"))


@pytest.mark.parametrize("path", ["/big-undeclared", "/big-chunked"])
def test_a_body_without_a_length_stops_as_soon_as_it_passes_the_limit(
    server, allow_private, settings, monkeypatch, path
):
    settings.IMPORT_MAX_BYTES = LIMIT
    received = []
    read = http.client.HTTPResponse.read

    def counting_read(response, amount=None):
        data = read(response, amount)
        received.append(len(data))
        return data

    monkeypatch.setattr(http.client.HTTPResponse, "read", counting_read)

    assert "larger than the 1,000 bytes" in failure(server.url(path))
    assert sum(received) <= LIMIT + fetching.CHUNK_BYTES


def test_nothing_past_the_declared_length_is_read(server, allow_private, settings):
    settings.IMPORT_MAX_BYTES = LIMIT

    assert fetch(server.url("/short-length")).content == b"y" * 10


def test_a_file_exactly_at_the_limit_is_accepted(server, allow_private, settings):
    settings.IMPORT_MAX_BYTES = len(FEED)

    assert fetch(server.url("/feed.csv")).content == FEED


# Time-outs and connection failures


def test_a_server_silent_for_longer_than_the_read_timeout_is_given_up(server, allow_private, settings):
    settings.IMPORT_READ_TIMEOUT = 0.5

    assert "the server sent nothing for 0.5 seconds" in failure(server.url("/slow"))


def test_connecting_uses_the_connect_timeout_and_says_when_it_ran_out(allow_private, settings, monkeypatch):
    settings.IMPORT_CONNECT_TIMEOUT = 3
    timeouts = []

    def time_out(address, timeout):
        timeouts.append(timeout)
        raise TimeoutError

    monkeypatch.setattr(socket, "create_connection", time_out)

    assert "connecting to the server timed out" in failure("http://127.0.0.1/feed.csv")
    assert timeouts == [3]


def test_a_refused_connection_is_reported_plainly(allow_private):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]

    assert "the server refused the connection" in failure(f"http://127.0.0.1:{port}/feed.csv")


def test_an_unknown_host_is_reported_plainly(monkeypatch):
    def fail(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)

    assert failure("https://feeds.example/feed.csv") == "The host feeds.example could not be found."


def test_when_one_address_is_unreachable_the_next_checked_one_is_tried(server, allow_private, dns, connections):
    dns.answers["feeds.example"] = ["127.0.0.2", "127.0.0.1"]  # nothing listens on 127.0.0.2

    assert fetch(f"http://feeds.example:{server.port}/feed.csv").content == FEED
    assert connections == ["127.0.0.2", "127.0.0.1"]


# Pinning: the connection goes where the check looked


def test_the_host_is_resolved_once_and_the_connection_goes_to_that_address(
    server, loopback_counts_as_public, dns, connections
):
    dns.answers["feeds.example"] = ["127.0.0.1"]

    sent = json.loads(fetch(f"http://feeds.example:{server.port}/headers").content)

    assert dns.asked == ["feeds.example"]
    assert connections == ["127.0.0.1"]
    assert sent["Host"] == f"feeds.example:{server.port}"


def test_https_is_verified_against_the_host_name_on_the_checked_address(
    server, loopback_counts_as_public, dns, monkeypatch
):
    dns.answers["feeds.example"] = ["127.0.0.1"]
    wrapped = []
    create_default_context = ssl.create_default_context

    class RecordingContext:
        def wrap_socket(self, sock, server_hostname):
            context = create_default_context()
            wrapped.append((sock.getpeername()[0], server_hostname, context.verify_mode, context.check_hostname))
            return context.wrap_socket(sock, server_hostname=server_hostname)

    monkeypatch.setattr(ssl, "create_default_context", RecordingContext)

    # The test server speaks plain HTTP, so the handshake itself fails.
    assert "the secure connection failed" in failure(f"https://feeds.example:{server.port}/feed.csv")
    assert wrapped == [("127.0.0.1", "feeds.example", ssl.CERT_REQUIRED, True)]


# The guard against our own network


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://feeds.example/feed.csv",
        "gopher://feeds.example/",
        "data:text/csv,name",
        "feeds.example/feed.csv",
        "//feeds.example/feed.csv",
        "http:///feed.csv",
    ],
)
def test_only_http_and_https_urls_with_a_host_are_fetched(url, connections):
    assert failure(url) in (
        f"{url} cannot be fetched: only http:// and https:// addresses can be.",
        f"{url} cannot be fetched: it names no host.",
    )
    assert connections == []


@pytest.mark.parametrize(
    "url", ["https://partner:s3cret@feeds.example/feed.csv", "ftp://partner:s3cret@feeds.example/"]
)
def test_credentials_in_the_url_are_refused_without_repeating_them(url, connections):
    message = failure(url)

    assert "user name or password" in message
    assert "s3cret" not in message
    assert connections == []


def test_a_malformed_url_is_refused():
    assert "is not a valid web address" in failure("http://feeds.example:99999/feed.csv")


def test_the_loopback_address_is_refused_without_a_request(server):
    assert "127.0.0.1 resolves to a private or internal address" in failure(server.url("/feed.csv"))
    assert server.seen == []


@pytest.mark.parametrize(
    "host",
    [
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:169.254.169.254]",
        "169.254.169.254",
        "10.0.0.5",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "[::]",
        "[fc00::1]",
        "[fe80::1]",
        "[ff02::1]",
        "[::127.0.0.1]",
        "[64:ff9b::a00:5]",
    ],
)
def test_private_and_internal_ip_literals_are_refused(host, connections):
    assert "resolves to a private or internal address" in failure(f"http://{host}/latest/meta-data/")
    assert connections == []


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111", "::ffff:93.184.216.34"])
def test_public_addresses_pass_the_guard(address):
    assert fetching._is_public(address)


def test_a_host_resolving_to_one_public_and_one_private_address_is_refused(dns, connections):
    dns.answers["feeds.example"] = ["93.184.216.34", "10.0.0.5"]

    assert "feeds.example resolves to a private or internal address" in failure("https://feeds.example/feed.csv")
    assert connections == []


def test_a_redirect_to_the_metadata_service_is_refused(server, loopback_counts_as_public, connections):
    assert "169.254.169.254 resolves to a private or internal address" in failure(
        server.url("/redirect?to=http://169.254.169.254/latest/meta-data/")
    )
    assert connections == ["127.0.0.1"]


def test_a_redirect_to_a_host_resolving_to_a_private_address_is_refused(
    server, loopback_counts_as_public, dns, connections
):
    dns.answers["internal.example"] = ["10.0.0.5"]

    assert "internal.example resolves to a private or internal address" in failure(
        server.url("/redirect?to=https://internal.example/admin")
    )
    assert connections == ["127.0.0.1"]


def test_a_redirect_to_another_scheme_is_refused(server, loopback_counts_as_public, connections):
    assert "only http:// and https://" in failure(server.url("/redirect?to=file:///etc/passwd"))
    assert connections == ["127.0.0.1"]


def test_private_addresses_are_fetched_when_allowed(server, settings):
    settings.IMPORT_ALLOW_PRIVATE_URLS = True

    assert fetch(server.url("/feed.csv")).content == FEED
