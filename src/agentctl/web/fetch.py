"""Download one page over http(s), safely, with a revalidating cache.

- Only ``http`` and ``https`` URLs, without credentials; redirects (at most 5) only to those.
- Every connection is checked AFTER name resolution, on the address actually connected to
  (redirects open new connections, so each hop is checked): loopback, private, link-local,
  multicast, reserved and unspecified addresses are refused unless ``allow_private`` names
  the address or a network holding it. No proxies (a proxy would hide the destination).
- ``domains``: when given (agents), the host of the URL and of every redirect must be one of
  them or a subdomain of one; ``None`` (people) allows any public host.
- At most ``max_bytes`` are read (a larger Content-Length is refused before reading), within
  ``timeout`` seconds in all; no compression is asked for, so what is read is what is kept.
- The cache (``cache_dir``, under ``.agentctl/local/``) keeps the last text of each URL with
  its ETag / Last-Modified; the next fetch asks ``If-None-Match`` / ``If-Modified-Since`` and a
  304 reuses the cached text.

Only the standard library (urllib): the connection hook that checks the resolved address is
a small subclass of http.client's connections. Errors are AgentctlErrors: PermissionDeniedError
for a refusal by policy, UsageError for a bad URL, NetworkError for a failed download.
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import ipaddress
import json
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import Message
from http.client import HTTPMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from agentctl.errors import NetworkError, PermissionDeniedError, UsageError

if TYPE_CHECKING:
    from agentctl.core.records import ConfigRecord

SCHEMES = ("http", "https")
MAX_REDIRECTS = 5
CHUNK = 64 * 1024
USER_AGENT = "agentctl-fetch/1 (+https://agentctl.dev)"
TEXT_TYPES = ("application/json", "application/xml", "application/javascript")
HTML_TYPES = ("text/html", "application/xhtml+xml")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Policy:
    max_bytes: int
    timeout: float
    domains: tuple[str, ...] | None = None  # None: any public host
    private: tuple[Network, ...] = ()


@dataclass
class _Clock:
    """One fetch's deadline and the sockets it opened (to bound every read by what is left)."""

    deadline: float
    sockets: list[socket.socket] = field(default_factory=list)

    def left(self, rules: Policy, where: str) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise NetworkError(f"{where} took longer than fetch.timeout ({rules.timeout:g} s)")
        return remaining


@dataclass(frozen=True)
class Page:
    url: str  # as requested (normalised: no fragment)
    final_url: str  # after redirects
    content_type: str  # the media type, lower case, without parameters
    text: str
    revalidated: bool  # a 304 answered: the cached text
    etag: str | None = None
    last_modified: str | None = None

    @property
    def is_html(self) -> bool:
        return self.content_type in HTML_TYPES


def policy(config: ConfigRecord, agent: bool) -> Policy:
    """The policy from the config's ``fetch`` section: agents only reach ``fetch.allow``."""
    section = config["fetch"]
    networks = tuple(ipaddress.ip_network(n, strict=False) for n in section["allow_private"])
    domains = tuple(d.lower().rstrip(".") for d in section["allow"]) if agent else None
    return Policy(section["max_bytes"], section["timeout"], domains, networks)


def normalise(url: str) -> str:
    """The URL to fetch (no fragment), or a UsageError / PermissionDeniedError saying why not."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError as exc:
        raise UsageError(f"not a valid URL: {exc}") from None
    if parts.scheme.lower() not in SCHEMES:
        raise PermissionDeniedError(
            f"refused: only http and https URLs are fetched, not {parts.scheme or 'a URL without a scheme'}"
            + ("://" if parts.scheme else ""),
        )
    if not parts.hostname:
        raise UsageError(f"not a valid URL (no host): {url}")
    if parts.username is not None or parts.password is not None:
        raise UsageError(
            "refused: a URL with credentials in it is not fetched (it would be recorded)"
        )
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise UsageError("not a valid URL: it holds spaces or control characters")
    return urlunsplit((parts.scheme.lower(), parts.netloc, parts.path or "/", parts.query, ""))


def domain_allowed(host: str, domains: Sequence[str]) -> bool:
    """``host`` is one of ``domains`` or a subdomain of one (``*.x`` covers subdomains only)."""
    host = host.lower().rstrip(".")
    for domain in domains:
        if domain.startswith("*."):
            if host.endswith(domain[1:]):
                return True
        elif host == domain or host.endswith("." + domain):
            return True
    return False


def _check_host(url: str, rules: Policy) -> None:
    host = urlsplit(url).hostname or ""
    if rules.domains is not None and not domain_allowed(host, rules.domains):
        allowed = ", ".join(rules.domains) or "none"
        raise PermissionDeniedError(
            f"refused: {host} is not an allowed domain for agents (fetch.allow: {allowed})",
            hint="a person adds the domain to fetch.allow in .agentctl/config.yaml",
        )


def _public(address: str, rules: Policy) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in rules.private):
        return True
    # is_global is False for every special-purpose range (private, loopback, link-local, shared
    # 100.64/10, documentation, benchmarking, ...); the rest are named for clarity.
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
        or ip.is_reserved or ip.is_unspecified
    )  # fmt: skip


def _connect(
    rules: Policy,
    clock: _Clock,
    address: tuple[str, int],
    timeout: object = None,  # http.client's per-operation timeout: the clock's is used instead
    source_address: tuple[str, int] | None = None,
) -> socket.socket:
    """http.client's connection hook: resolve, refuse non-public addresses, connect to the
    checked address itself (no second lookup that could answer differently)."""
    host, port = address
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise NetworkError(f"cannot resolve {host}: {exc.strerror or exc}") from None
    refused = [info[4][0] for info in infos if not _public(str(info[4][0]), rules)]
    if refused:
        raise PermissionDeniedError(
            f"refused: {host} resolves to {refused[0]}, a loopback, private or link-local address",
            hint="fetch.allow_private in .agentctl/config.yaml lists addresses that may be fetched",
        )
    last: OSError | None = None
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(
                clock.left(rules, host)
            )  # this hop gets what is left of the fetch's time
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            clock.sockets.append(sock)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
    raise last if last is not None else OSError(f"no address for {host}")


class _HTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, rules: Policy, clock: _Clock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = functools.partial(_connect, rules, clock)


class _HTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args: Any, rules: Policy, clock: _Clock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = functools.partial(_connect, rules, clock)


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, rules: Policy, clock: _Clock) -> None:
        super().__init__()
        self.rules, self.clock = rules, clock

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(
            functools.partial(_HTTPConnection, rules=self.rules, clock=self.clock), req
        )


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, rules: Policy, clock: _Clock) -> None:
        super().__init__(context=ssl.create_default_context())
        self.rules, self.clock = rules, clock

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(
            functools.partial(_HTTPSConnection, rules=self.rules, clock=self.clock),
            req,
            context=self._context,  # type: ignore[attr-defined]
        )


class _Redirects(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def __init__(self, rules: Policy) -> None:
        super().__init__()
        self.rules = rules

    def http_error_302(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: HTTPMessage
    ) -> Any:
        # urllib refuses other schemes itself, as an HTTP error; a refusal by policy is ours.
        location = headers.get("Location") or headers.get("URI") or ""
        scheme = urlsplit(urljoin(req.full_url, location)).scheme.lower()
        if location and scheme not in SCHEMES:
            raise PermissionDeniedError(
                f"refused: {req.full_url} redirects to a {scheme}: URL (only http and https are followed)"
            )
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        scheme = urlsplit(newurl).scheme.lower()
        if scheme not in SCHEMES:
            raise PermissionDeniedError(
                f"refused: {req.full_url} redirects to a {scheme or 'relative'}: URL (only http and https are followed)"
            )
        _check_host(newurl, self.rules)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener(rules: Policy, clock: _Clock) -> urllib.request.OpenerDirector:
    """An opener with only what a page fetch needs: no proxies, no file:, ftp: or data:."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.UnknownHandler(),
        _HTTPHandler(rules, clock),
        _HTTPSHandler(rules, clock),
        urllib.request.HTTPDefaultErrorHandler(),
        _Redirects(rules),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


# -- the cache ---------------------------------------------------------------------------


def _cache_paths(cache_dir: Path, url: str) -> tuple[Path, Path]:
    key = hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]
    return cache_dir / f"{key}.json", cache_dir / f"{key}.txt"


def _cached(cache_dir: Path, url: str) -> tuple[dict[str, Any], str] | None:
    meta_path, body_path = _cache_paths(cache_dir, url)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        body = body_path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("url") != url:
        return None
    return meta, body


def _store(cache_dir: Path, page: Page) -> None:
    from agentctl.store import atomic

    meta_path, body_path = _cache_paths(cache_dir, page.url)
    cache_dir.mkdir(parents=True, exist_ok=True)
    meta = {"url": page.url, "final_url": page.final_url, "content_type": page.content_type,
            "etag": page.etag, "last_modified": page.last_modified}  # fmt: skip
    atomic.write_text(body_path, page.text)
    atomic.write_text(meta_path, json.dumps(meta) + "\n")


# -- fetching ------------------------------------------------------------------------------


def _media_type(headers: Message, head: bytes) -> str:
    value = headers.get_content_type() if headers.get("Content-Type") else ""
    if value:
        return value.lower()
    sniff = head[:512].lstrip().lower()
    return "text/html" if sniff.startswith((b"<!doctype html", b"<html")) else "text/plain"


def _is_text(media: str) -> bool:
    return (
        media.startswith("text/") or media in HTML_TYPES or media in TEXT_TYPES
        or media.endswith(("+json", "+xml"))
    )  # fmt: skip


def _decode(data: bytes, headers: Message) -> str:
    charset = headers.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return data.decode("utf-8", errors="replace")


def _read(response: Any, rules: Policy, clock: _Clock, url: str) -> bytes:
    """The body, at most ``max_bytes``, before the deadline: every read waits at most for what
    is left of it, and returns what arrived (``read1``), so a trickling server is cut off."""
    length = response.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > rules.max_bytes:
        raise NetworkError(
            f"{url} is {int(length):,} bytes, more than fetch.max_bytes ({rules.max_bytes:,})"
        )
    chunks: list[bytes] = []
    total = 0
    while True:
        left = clock.left(rules, url)
        if clock.sockets:
            clock.sockets[-1].settimeout(left)
        chunk = response.read1(CHUNK)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > rules.max_bytes:
            raise NetworkError(f"{url} is larger than fetch.max_bytes ({rules.max_bytes:,} bytes)")
        chunks.append(chunk)


def fetch(url: str, rules: Policy, cache_dir: Path) -> Page:
    """Download ``url`` under ``rules``; see the module's docstring."""
    url = normalise(url)
    _check_host(url, rules)
    cached = _cached(cache_dir, url)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "text/html, text/markdown;q=0.9, text/plain;q=0.8, */*;q=0.1", "Accept-Encoding": "identity"})  # fmt: skip
    if cached is not None:
        if cached[0].get("etag"):
            request.add_header("If-None-Match", str(cached[0]["etag"]))
        if cached[0].get("last_modified"):
            request.add_header("If-Modified-Since", str(cached[0]["last_modified"]))
    clock = _Clock(time.monotonic() + rules.timeout)
    try:
        with _opener(rules, clock).open(request, timeout=rules.timeout) as response:
            final = response.geturl()
            body = _read(response, rules, clock, url)
            headers = response.headers
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 304 and cached is not None:
            meta, text = cached
            return Page(url, str(meta.get("final_url") or url), str(meta.get("content_type") or "text/plain"),
                        text, True, meta.get("etag"), meta.get("last_modified"))  # fmt: skip
        raise NetworkError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError | socket.timeout):
            raise NetworkError(
                f"{url} took longer than fetch.timeout ({rules.timeout:g} s)"
            ) from None
        if isinstance(reason, ssl.SSLError):
            raise NetworkError(f"{url}: TLS failed: {reason.reason or reason}") from None
        if isinstance(reason, OSError):
            raise NetworkError(f"{url}: {reason.strerror or reason}") from None
        raise NetworkError(f"{url}: {reason}") from None
    except TimeoutError:
        raise NetworkError(f"{url} took longer than fetch.timeout ({rules.timeout:g} s)") from None
    except (http.client.HTTPException, OSError) as exc:
        raise NetworkError(f"{url}: the download failed ({type(exc).__name__}: {exc})") from None
    media = _media_type(headers, body)
    if not _is_text(media):
        raise NetworkError(f"{url} is not a text page (Content-Type {media})")
    page = Page(url, final, media, _decode(body, headers), False,
                headers.get("ETag"), headers.get("Last-Modified"))  # fmt: skip
    if page.etag or page.last_modified:
        _store(cache_dir, page)
    return page
