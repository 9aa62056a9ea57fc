"""Fetch a partner's feed over HTTP(S) without letting the URL turn the server against its own network.

Feed URLs are typed by curators and partners, and redirects are chosen by whoever runs the
far end. Fetched naively, such a URL reaches what only the server can reach: the cloud's
metadata service at 169.254.169.254, the database, an admin port on localhost (SSRF).
So every hop, redirects included, is checked before anything is sent:

- only http and https, to a named host;
- the host is resolved once, and every address it resolves to must be public;
- the connection goes to the address that was checked, not to a second lookup that a
  short-lived DNS answer could point elsewhere; TLS is still verified against the host name.

Time-outs and the size limit keep a slow or endless answer from holding a worker. This is
the one place the project fetches a URL; it uses only the standard library, so the checks
above are not undone by a client library's own redirects, proxies or DNS.
IMPORT_ALLOW_PRIVATE_URLS switches the address check off for development against local servers.
"""

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from django.conf import settings

from providers.exchange.records import ImportFileError

USER_AGENT = "treatment-directory-feed/1"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK_BYTES = 64 * 1024
# What urllib.parse.quote must leave alone so an already valid URL is sent unchanged; spaces
# and non-ASCII letters pasted into a URL are percent-encoded, as a browser would.
URL_SAFE_CHARACTERS = "!#$%&'()*+,/:;=?@[]~"


class FetchError(ImportFileError):
    """The URL could not be fetched; the message says why in words a curator understands (no tracebacks)."""


@dataclass(frozen=True)
class Fetched:
    """What a fetch brought back; etag, last_modified and content_type are "" when the response had none."""

    url: str  # the final URL, after redirects
    status: int  # 200 (or another 2xx), or 304
    content: bytes  # b"" when not modified
    etag: str
    last_modified: str
    content_type: str

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class _Target:
    """One hop's URL, checked and resolved: where to connect and what to ask for."""

    url: str
    tls: bool
    host: str
    port: int
    addresses: tuple[str, ...]
    path: str


def fetch(url: str, *, etag: str = "", last_modified: str = "", accept: str = "*/*") -> Fetched:
    """GET url; sends If-None-Match / If-Modified-Since when etag / last_modified are given."""
    headers = {"User-Agent": USER_AGENT, "Accept": accept, "Accept-Encoding": "identity"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    url = url.strip()
    first_url = url
    # Redirects are followed here rather than by http.client, so each hop is checked like the first.
    for _hop in range(settings.IMPORT_MAX_REDIRECTS + 1):
        target = _vet(url)
        connection = _PinnedConnection(target)
        try:
            response = _ask(connection, target, headers)
            if response.status in REDIRECT_STATUSES:
                location = response.getheader("Location")
                if not location:
                    raise FetchError(f"{url} answered {response.status} {response.reason} without saying where to.")
                url = urljoin(url, location.strip())
                continue
            return _answer(target, response)
        finally:
            connection.close()
    raise FetchError(f"{first_url} redirected more than {settings.IMPORT_MAX_REDIRECTS} times; giving up.")


def _vet(url: str) -> _Target:
    """Check one hop's URL and resolve its host, refusing anything but the public internet."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise FetchError(f"{url} is not a valid web address.") from None
    if parts.username is not None or parts.password is not None:
        # Not echoed, here or below: the address holds a password.
        raise FetchError("A feed address cannot contain a user name or password.")
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"{url} cannot be fetched: only http:// and https:// addresses can be.")
    if not parts.hostname:
        raise FetchError(f"{url} cannot be fetched: it names no host.")
    tls = parts.scheme == "https"
    host = parts.hostname
    port = port or (443 if tls else 80)
    addresses = _resolve(host, port)
    if not settings.IMPORT_ALLOW_PRIVATE_URLS and not all(_is_public(address) for address in addresses):
        # The address itself is not named: the message would otherwise map the internal network.
        raise FetchError(f"{url} cannot be fetched: {host} resolves to a private or internal address.")
    path = quote(parts.path or "/", safe=URL_SAFE_CHARACTERS)
    if parts.query:
        path += "?" + quote(parts.query, safe=URL_SAFE_CHARACTERS)
    return _Target(url=url, tls=tls, host=host, port=port, addresses=addresses, path=path)


def _resolve(host: str, port: int) -> tuple[str, ...]:
    """Every address the host resolves to (an IP literal resolves to itself), in the resolver's order."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, ValueError):  # ValueError: a name IDNA cannot encode, or a NUL in it
        raise FetchError(f"The host {host} could not be found.") from None
    addresses = tuple(dict.fromkeys(sockaddr[0] for *_, sockaddr in found))
    if not addresses:
        raise FetchError(f"The host {host} could not be found.")
    return addresses


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    # ::ffff:127.0.0.1 reaches 127.0.0.1: an IPv4-mapped address is judged by its IPv4 address.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    # is_global alone lets multicast and reserved ranges through; those are no partner's web server.
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to the addresses checked in _vet, never to a fresh lookup of the host name.

    http.client still writes the Host header from the host name, and TLS is verified against it.
    """

    def __init__(self, target: _Target):
        super().__init__(target.host, target.port, timeout=settings.IMPORT_READ_TIMEOUT)
        # The Host header leaves out the port when it is the scheme's default.
        self.default_port = 443 if target.tls else 80
        self.target = target

    def connect(self) -> None:
        failure: OSError | None = None
        # Like socket.create_connection given the host name: the next address when one is unreachable.
        for address in self.target.addresses:
            try:
                sock = socket.create_connection((address, self.port), timeout=settings.IMPORT_CONNECT_TIMEOUT)
                break
            except OSError as error:
                failure = error
        else:
            raise failure
        sock.settimeout(self.timeout)
        if self.target.tls:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.target.host)
        self.sock = sock


def _ask(connection: _PinnedConnection, target: _Target, headers: dict[str, str]) -> http.client.HTTPResponse:
    """Connect, send the GET and read the status line and headers, turning failures into FetchError."""
    try:
        connection.connect()
    except TimeoutError:
        raise FetchError(f"{target.url} could not be fetched: connecting to the server timed out.") from None
    except OSError as error:
        raise _connection_failure(target.url, error) from None
    try:
        connection.request("GET", target.path, headers=headers)
        return connection.getresponse()
    except (OSError, http.client.HTTPException) as error:
        raise _reading_failure(target.url, error) from None


def _answer(target: _Target, response: http.client.HTTPResponse) -> Fetched:
    if response.status != 304 and not 200 <= response.status < 300:
        raise FetchError(f"{target.url} answered {response.status} {response.reason}.")
    try:
        content = b"" if response.status == 304 else _read_body(target.url, response)
    except (OSError, http.client.HTTPException) as error:
        raise _reading_failure(target.url, error) from None
    return Fetched(
        url=target.url,
        status=response.status,
        content=content,
        etag=response.getheader("ETag", ""),
        last_modified=response.getheader("Last-Modified", ""),
        content_type=response.getheader("Content-Type", ""),
    )


def _read_body(url: str, response: http.client.HTTPResponse) -> bytes:
    limit = settings.IMPORT_MAX_BYTES
    too_large = FetchError(f"{url} is larger than the {limit:,} bytes a feed may be.")
    declared = response.getheader("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    # Counted as it arrives: a missing Content-Length (or a chunked body) says nothing about the size.
    chunks: list[bytes] = []
    received = 0
    while chunk := response.read(CHUNK_BYTES):
        received += len(chunk)
        if received > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _connection_failure(url: str, error: OSError) -> FetchError:
    if isinstance(error, ssl.SSLCertVerificationError):
        return FetchError(f"{url} could not be fetched: its certificate is not valid ({error.verify_message}).")
    if isinstance(error, ssl.SSLError):
        return FetchError(f"{url} could not be fetched: the secure connection failed ({error.reason or error}).")
    if isinstance(error, ConnectionRefusedError):
        return FetchError(f"{url} could not be fetched: the server refused the connection.")
    return FetchError(f"{url} could not be fetched: the server could not be reached ({error.strerror or error}).")


def _reading_failure(url: str, error: OSError | http.client.HTTPException) -> FetchError:
    if isinstance(error, TimeoutError):
        return FetchError(
            f"{url} could not be fetched: the server sent nothing for {settings.IMPORT_READ_TIMEOUT} seconds."
        )
    if isinstance(error, http.client.RemoteDisconnected):
        return FetchError(f"{url} could not be fetched: the server closed the connection without answering.")
    if isinstance(error, http.client.IncompleteRead):
        return FetchError(f"{url} could not be fetched: the connection closed before the whole file arrived.")
    if isinstance(error, http.client.HTTPException):
        return FetchError(f"{url} could not be fetched: the server's answer is not valid HTTP.")
    return FetchError(f"{url} could not be fetched: the connection failed ({error.strerror or error}).")
