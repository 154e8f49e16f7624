"""Safe URL fetching: which addresses a URL may reach, and a client that enforces it.

A knowledge base that downloads whatever URL it is given can be pointed at the
machine it runs on (``http://127.1/``, ``http://2130706433/``), at the private
network behind it, or at a cloud metadata service (``169.254.169.254``), and
the answer can then be read back with ``ask``. So every connection is vetted:

* only ``http`` and ``https``;
* the host is resolved once, here, and every address it resolves to must be a
  public one; host names spelled as numbers are read the way the C library
  would read them (decimal, octal, hex, short forms, IPv4-mapped IPv6);
* the connection goes to the address that was checked, never through a second
  DNS lookup that a rebinding server could answer differently (TLS still
  verifies the certificate against the host name);
* every redirect hop is checked again, at most :data:`MAX_REDIRECTS` of them;
* one deadline bounds the whole download, name resolution included, however
  slowly the resolver answers or the bytes trickle in.

``allow_private`` (``KB_ALLOW_PRIVATE_URLS``) lets an operator fetch from their
own network (loopback, private, carrier-grade NAT, link-local, unique-local);
the unspecified address, multicast, reserved ranges and the cloud metadata
address stay refused even then.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]
"""``resolve(host, port) -> [address, ...]``; the default asks the system resolver once."""

MAX_REDIRECTS = 5
ALLOWED_SCHEMES = ("http", "https")

_METADATA = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack...
    ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
}
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeURL(Exception):
    """A URL or address we refuse to connect to; ``reason`` is written for users."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- addresses ------------------------------------------------------------------


def parse_ip(host: str) -> IPAddress | None:
    """The address a numeric host name stands for, in any spelling; None for a name.

    Reads IPv4 the way ``inet_aton`` does (and so the way the connection would):
    ``2130706433``, ``0x7f.1``, ``0177.0.0.1`` and ``127.1`` are all 127.0.0.1.

    Example:
        >>> parse_ip("0x7f.1"), parse_ip("example.org")
        (IPv4Address('127.0.0.1'), None)
    """
    host = host.strip().rstrip(".").strip("[]")
    if not host:
        return None
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return None
    parts = host.split(".")
    if len(parts) > 4:
        return None
    numbers: list[int] = []
    for part in parts:
        number = _inet_number(part)
        if number is None:
            return None
        numbers.append(number)
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = last
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _inet_number(part: str) -> int | None:
    try:
        if part[:2].lower() == "0x":
            return int(part[2:] or "0", 16)
        if len(part) > 1 and part.startswith("0"):
            return int(part[1:], 8)
        return int(part, 10) if part.isascii() and part.isdigit() else None
    except ValueError:
        return None


def _embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64), if any."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def refusal(address: IPAddress, allow_private: bool = False) -> str | None:
    """Why we will not connect to ``address``, or None when it is a public address.

    Example:
        >>> refusal(ipaddress.ip_address("10.0.0.1"))
        'a private network address'
    """
    inner = _embedded_ipv4(address)
    if inner != address:
        return refusal(inner, allow_private)
    never = _never(address)
    if never is not None:
        return never
    own = _own_network(address)
    if own is not None and not allow_private:
        return own
    return None


def _never(address: IPAddress) -> str | None:
    if address.is_unspecified:
        return "the unspecified address (it reaches this machine)"
    if address in _METADATA:
        return "a cloud metadata address"
    if address.is_multicast:
        return "a multicast address"
    if _own_network(address) is None and not address.is_global:
        return "a reserved address"
    return None


def _own_network(address: IPAddress) -> str | None:
    if address.is_loopback:
        return "a loopback address (this machine)"
    if address.is_link_local:
        return "a link-local address"
    if isinstance(address, ipaddress.IPv4Address):
        if address in _CGNAT:
            return "a carrier-grade NAT address"
        if any(address in net for net in _RFC1918):
            return "a private network address"
    elif address in _UNIQUE_LOCAL:
        return "a unique-local address"
    return None


_RFC1918 = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")


# --- URLs -----------------------------------------------------------------------


def check_url(url: str, allow_private: bool = False) -> None:
    """Refuse a URL before any connection: bad scheme, no host, or a numeric host we refuse.

    Host names are checked when they are resolved, at connection time.

    Raises:
        UnsafeURL: With the reason, e.g. ``refusing 10.0.0.1: a private network address``.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        raise UnsafeURL(f"not a valid URL ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise UnsafeURL(f"unsupported URL scheme {scheme or '(none)'!r} (use http or https)")
    if not host:
        raise UnsafeURL("the URL has no host name")
    address = parse_ip(host)
    if address is not None:
        reason = refusal(address, allow_private)
        if reason is not None:
            raise UnsafeURL(f"refusing {host}: {reason}")


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (one lookup)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise httpcore.ConnectError(f"could not resolve {host}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def vetted_addresses(
    host: str, port: int, allow_private: bool, resolve: Resolver = system_resolver
) -> list[str]:
    """Resolve ``host`` once and return its addresses, or refuse if any is not allowed.

    Refusing when *any* address is private (rather than skipping it) means a
    name that mixes public and private answers is treated as the attack it is.

    Raises:
        UnsafeURL: An address of ``host`` is one we refuse.
    """
    literal = parse_ip(host)
    addresses = [str(literal)] if literal is not None else resolve(host, port)
    if not addresses:
        raise httpcore.ConnectError(f"could not resolve {host}")
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        reason = refusal(address, allow_private)
        if reason is not None:
            shown = host if literal is not None or host == text else f"{host} ({text})"
            raise UnsafeURL(f"refusing {shown}: {reason}")
    return addresses


# --- the deadline of the current download ----------------------------------------

_deadline: ContextVar[float | None] = ContextVar("kb_fetch_deadline", default=None)


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Bound every network operation inside the block by one overall deadline."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def _remaining(timeout: float | None, error: type[Exception]) -> float | None:
    """The timeout for one operation: the caller's, cut down to what the deadline leaves."""
    end = _deadline.get()
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise error("the download took longer than the time allowed")
    return left if timeout is None else min(timeout, left)


class ResolveTimeout(httpcore.ConnectTimeout):
    """Name resolution did not finish within the download's deadline."""


def _within(seconds: float | None, host: str, lookup: Callable[[], list[str]]) -> list[str]:
    """``lookup()``, given up on after ``seconds``.

    ``getaddrinfo`` takes no timeout and the system resolver can block for tens
    of seconds, so it runs in a daemon thread that is left behind if it overruns
    (it ends when the resolver gives up).
    """
    if seconds is None:
        return lookup()
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(lookup())
        except BaseException as exc:  # re-raised in the caller's thread
            outcome.append(exc)

    worker = threading.Thread(target=run, name=f"resolve {host}", daemon=True)
    worker.start()
    worker.join(seconds)
    if not outcome:
        raise ResolveTimeout(f"resolving {host} took longer than the time allowed")
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    result: list[str] = outcome[0]
    return result


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _remaining(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _remaining(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        wrapped = self._inner.start_tls(
            ssl_context, server_hostname, _remaining(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(wrapped)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Opens TCP connections only to vetted addresses, resolved exactly once."""

    def __init__(self, allow_private: bool = False, resolve: Resolver = system_resolver) -> None:
        self.allow_private = allow_private
        self.resolve = resolve
        self._tcp = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = _within(
            _remaining(timeout, httpcore.ConnectTimeout),  # spent before the lookup began
            host,
            lambda: vetted_addresses(host, port, self.allow_private, self.resolve),
        )
        error: Exception | None = None
        for address in addresses:  # happy-eyeballs lite: the next address if one fails
            try:
                stream = self._tcp.connect_tcp(
                    address,  # an IP: no second lookup
                    port,
                    _remaining(timeout, httpcore.ConnectTimeout),
                    local_address,
                    socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
                continue
            return _DeadlineStream(stream)
        assert error is not None
        raise error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise UnsafeURL("refusing a Unix socket")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport, with connections opened by :class:`GuardedBackend`."""

    def __init__(self, allow_private: bool = False, resolve: Resolver = system_resolver) -> None:
        super().__init__(trust_env=False)
        # httpx has no public hook for the network backend; its pool is the one
        # attribute handle_request uses, so swap in a pool built on ours.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=10,
            max_keepalive_connections=5,
            network_backend=GuardedBackend(allow_private, resolve),
        )


__all__ = [
    "MAX_REDIRECTS",
    "GuardedBackend",
    "GuardedTransport",
    "ResolveTimeout",
    "UnsafeURL",
    "check_url",
    "deadline",
    "parse_ip",
    "refusal",
    "system_resolver",
    "vetted_addresses",
]
