"""URL fetching is safe by default: refused addresses, redirects, deadline, size and type caps.

Every test talks only to servers it starts on 127.0.0.1. A guard on
``socket.create_connection`` fails the test if anything tries to connect
elsewhere, so a refusal test proves the address was refused *before* connecting.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot import KnowledgeBase
from ingest.errors import FetchError, RefusedURLError, UnsupportedSourceError
from ingest.load import Limits, fetch, http_client
from ingest.urls import parse_ip, refusal
from tests.conftest import make_settings
from tests.documents import article_page

PAGE = article_page("Kelp forests", ["Kelp forests grow up to half a metre a day in summer."] * 3)


@pytest.fixture(autouse=True)
def only_loopback(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Fail loudly instead of connecting anywhere but 127.0.0.1."""
    attempts: list[Any] = []
    real = socket.create_connection

    def guarded(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        attempts.append(address)
        if address[0] != "127.0.0.1":
            raise AssertionError(f"the test tried to connect to {address}")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)
    return attempts


@dataclass
class Server:
    port: int
    requests: list[tuple[str, str]] = field(default_factory=list)
    """(path, Host header) of every request received."""

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


Route = Callable[[BaseHTTPRequestHandler], None]


@pytest.fixture
def server() -> Iterator[tuple[Server, dict[str, Route]]]:
    """A 127.0.0.1 server; tests add routes (path -> handler) to the returned dict."""
    routes: dict[str, Route] = {}
    state = Server(0)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append((self.path, self.headers.get("Host", "")))
            route = routes.get(self.path)
            if route is None:
                self.send_error(404)
                return
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                route(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state, routes
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def send(body: bytes, content_type: str = "text/html; charset=utf-8", length: bool = True) -> Route:
    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        if length:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return route


def redirect(location: str) -> Route:
    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return route


def _fetch(url: str, **limits: Any) -> Any:
    settings = Limits(**limits)
    with http_client(settings.fetch_timeout, settings.allow_private_urls) as client:
        return fetch(url, client, settings)


# --- addresses in every spelling ------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.1", "2130706433", "0x7f000001", "0x7f.1", "0177.0.0.1", "017700000001"],
)
def test_every_spelling_of_loopback_is_read_as_loopback(host: str) -> None:
    assert parse_ip(host) == ipaddress.IPv4Address("127.0.0.1")


def test_host_names_are_not_addresses() -> None:
    assert parse_ip("example.org") is None
    assert parse_ip("1.2.3.4.5") is None
    assert parse_ip("256.1.1.1") is None


REFUSED = [
    ("http://10.0.0.1/", "refusing 10.0.0.1: a private network address"),
    ("http://172.16.5.4/", "a private network address"),
    ("http://192.168.1.1/", "a private network address"),
    ("http://100.64.0.1/", "a carrier-grade NAT address"),
    ("http://169.254.169.254/latest/meta-data/", "a cloud metadata address"),
    ("http://169.254.1.1/", "a link-local address"),
    ("http://127.0.0.1:{port}/", "a loopback address"),
    ("http://127.1:{port}/", "a loopback address"),
    ("http://2130706433:{port}/", "refusing 2130706433: a loopback address"),
    ("http://0x7f000001:{port}/", "a loopback address"),
    ("http://0177.0.0.1:{port}/", "a loopback address"),
    ("http://[::1]:{port}/", "a loopback address"),
    ("http://[::ffff:127.0.0.1]:{port}/", "a loopback address"),
    ("http://[::ffff:a00:1]/", "a private network address"),
    ("http://[fd00::1]/", "a unique-local address"),
    ("http://[fe80::1]/", "a link-local address"),
    ("http://0.0.0.0:{port}/", "the unspecified address"),
    ("http://0:{port}/", "the unspecified address"),
    ("http://[::]:{port}/", "the unspecified address"),
    ("http://224.0.0.1/", "a multicast address"),
    ("http://240.0.0.1/", "a reserved address"),
    ("http://255.255.255.255/", "a reserved address"),
    ("http://localhost:{port}/", "refusing localhost (127.0.0.1): a loopback address"),
    ("file:///etc/passwd", "unsupported URL scheme 'file'"),
    ("gopher://127.0.0.1/", "unsupported URL scheme 'gopher'"),
]


@pytest.mark.parametrize(("template", "reason"), REFUSED)
def test_private_and_special_addresses_are_refused_before_connecting(
    server: tuple[Server, dict[str, Route]], only_loopback: list[Any], template: str, reason: str
) -> None:
    state, routes = server
    routes["/"] = send(PAGE.encode())
    url = template.format(port=state.port)

    with pytest.raises(RefusedURLError) as caught:
        _fetch(url)

    assert reason in caught.value.reason
    assert not state.requests and not only_loopback  # no connection was even attempted


def test_metadata_and_unspecified_stay_refused_when_private_urls_are_allowed() -> None:
    for address in ("169.254.169.254", "0.0.0.0", "::", "224.0.0.1", "::ffff:169.254.169.254"):
        assert refusal(ipaddress.ip_address(address), allow_private=True) is not None
    for address in ("127.0.0.1", "10.1.2.3", "192.168.0.10", "fd12::1", "100.64.1.1"):
        assert refusal(ipaddress.ip_address(address), allow_private=True) is None


def test_a_knowledge_base_refuses_private_urls_by_default(
    kb: KnowledgeBase, server: tuple[Server, dict[str, Route]]
) -> None:
    state, routes = server
    routes["/post.html"] = send(PAGE.encode())
    assert kb.settings.allow_private_urls is False

    report = kb.ingest([state.url("/post.html"), "http://10.0.0.1/", "http://2130706433/"])

    reasons = [s.reason or "" for s in report.failed]
    assert len(reasons) == 3
    assert "refusing 127.0.0.1: a loopback address" in reasons[0]
    assert "refusing 10.0.0.1: a private network address" in reasons[1]
    assert "refusing 2130706433: a loopback address" in reasons[2]
    assert not state.requests


def test_allow_private_urls_lets_an_operator_fetch_from_their_own_network(
    server: tuple[Server, dict[str, Route]],
) -> None:
    state, routes = server
    routes["/post.html"] = send(PAGE.encode())

    raw = _fetch(state.url("/post.html"), allow_private_urls=True)

    assert b"half a metre" in raw.data and raw.media_type == "text/html"


def test_a_host_name_is_resolved_once_and_the_checked_address_is_the_one_connected_to(
    server: tuple[Server, dict[str, Route]], only_loopback: list[Any]
) -> None:
    state, routes = server
    routes["/post.html"] = send(PAGE.encode())
    lookups: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    # "articles.invalid" cannot resolve through DNS: success means the
    # connection went to the vetted address, with the name kept in the Host header.
    url = state.url("/post.html", host="articles.invalid")
    limits = Limits(allow_private_urls=True)
    with http_client(allow_private=True, resolve=resolve) as client:
        raw = fetch(url, client, limits)
    assert b"half a metre" in raw.data
    assert lookups == ["articles.invalid"]
    assert state.requests == [("/post.html", f"articles.invalid:{state.port}")]
    assert only_loopback == [("127.0.0.1", state.port)]

    with (
        http_client(allow_private=False, resolve=resolve) as client,
        pytest.raises(RefusedURLError) as caught,
    ):
        fetch(url, client, Limits())
    assert "refusing articles.invalid (127.0.0.1): a loopback address" in caught.value.reason
    assert len(state.requests) == 1


def test_a_name_with_any_private_address_is_refused() -> None:
    def resolve(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "10.0.0.7"]  # public first, then the rebinding target

    refused = r"\(10\.0\.0\.7\): a private network address"
    with http_client(resolve=resolve) as client, pytest.raises(RefusedURLError, match=refused):
        fetch("http://mixed.invalid/", client, Limits())


# --- redirects --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "a cloud metadata address"),
        ("http://0.0.0.0:{port}/post.html", "the unspecified address"),
        ("http://[::ffff:169.254.169.254]/", "a cloud metadata address"),
        ("file:///etc/passwd", "unsupported URL scheme 'file'"),
    ],
)
def test_every_redirect_hop_is_checked(
    server: tuple[Server, dict[str, Route]], location: str, reason: str
) -> None:
    state, routes = server
    routes["/post.html"] = send(PAGE.encode())
    routes["/go"] = redirect(location.format(port=state.port))

    with pytest.raises(RefusedURLError) as caught:
        _fetch(state.url("/go"), allow_private_urls=True)

    assert reason in caught.value.reason
    assert [path for path, _ in state.requests] == ["/go"]


def test_redirects_are_followed_at_most_five_times(
    server: tuple[Server, dict[str, Route]],
) -> None:
    state, routes = server
    routes["/post.html"] = send(PAGE.encode())
    for hop in range(6):
        routes[f"/r{hop}"] = redirect(f"/r{hop + 1}")
    routes["/r6"] = redirect("/post.html")
    routes["/five"] = redirect("/r3")  # /five -> r3 -> r4 -> r5 -> r6 -> post: 5 redirects

    assert b"half a metre" in _fetch(state.url("/five"), allow_private_urls=True).data
    with pytest.raises(RefusedURLError, match="more than 5 redirects"):
        _fetch(state.url("/r0"), allow_private_urls=True)


# --- deadline, size and type ----------------------------------------------------------


def test_a_server_trickling_one_byte_a_second_fails_within_the_deadline(
    server: tuple[Server, dict[str, Route]],
) -> None:
    state, routes = server

    def trickle(handler: BaseHTTPRequestHandler) -> None:
        body = PAGE.encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        for byte in body[:30]:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(0.5)

    routes["/slow"] = trickle
    started = time.monotonic()

    with pytest.raises(FetchError, match="did not finish in time"):
        _fetch(state.url("/slow"), fetch_timeout=2.0, allow_private_urls=True)

    assert time.monotonic() - started < 3.0


def test_a_slow_name_resolution_fails_within_the_deadline(
    monkeypatch: pytest.MonkeyPatch, only_loopback: list[Any]
) -> None:
    released = threading.Event()
    lookups: list[str] = []

    def hanging_getaddrinfo(host: str, *args: Any, **kwargs: Any) -> Any:
        lookups.append(host)
        released.wait(30)  # a resolver that does not answer (released when the test ends)
        raise socket.gaierror("no answer")

    monkeypatch.setattr(socket, "getaddrinfo", hanging_getaddrinfo)
    started = time.monotonic()
    try:
        # Each operation may take 30 s; only the whole-download deadline can stop it at 1 s.
        with http_client(timeout=30.0) as client, pytest.raises(FetchError) as caught:
            fetch("http://slow-dns.invalid/post.html", client, Limits(fetch_timeout=1.0))
        waited = time.monotonic() - started
    finally:
        released.set()

    assert lookups == ["slow-dns.invalid"]
    assert waited < 2.0
    assert "did not finish in time" in caught.value.reason
    assert "the limit is 1 s" in caught.value.reason
    assert "resolving the host name took too long" in caught.value.reason
    assert only_loopback == []


@pytest.mark.parametrize("declared", [True, False])
def test_a_download_over_the_size_cap_is_refused(
    server: tuple[Server, dict[str, Route]], declared: bool
) -> None:
    state, routes = server
    routes["/big"] = send(b"<p>" + b"a " * 600_000 + b"</p>", length=declared)

    with pytest.raises(FetchError, match="larger than 1 MB"):
        _fetch(state.url("/big"), max_download_bytes=2**20, allow_private_urls=True)


def test_max_download_mb_is_a_setting(tmp_path: Path, model_cache: Path) -> None:
    settings = make_settings(tmp_path, model_cache, max_download_mb=1.5, fetch_timeout=3)
    assert settings.limits.max_download_bytes == int(1.5 * 2**20)
    assert settings.limits.fetch_timeout == 3
    assert make_settings(tmp_path, model_cache).limits.max_download_bytes == 20 * 2**20


@pytest.mark.parametrize(
    "content_type", ["image/png", "application/json", "application/zip", "video/mp4"]
)
def test_content_that_is_not_an_article_is_refused(
    server: tuple[Server, dict[str, Route]], content_type: str
) -> None:
    state, routes = server
    routes["/thing"] = send(b"x" * 100, content_type=content_type)

    with pytest.raises(UnsupportedSourceError, match="unsupported content type"):
        _fetch(state.url("/thing"), allow_private_urls=True)


@pytest.mark.parametrize(
    ("content_type", "media_type"),
    [
        ("text/markdown; charset=utf-8", "text/markdown"),
        ("text/plain", "text/plain"),
        ("application/xhtml+xml", "text/html"),
    ],
)
def test_text_markdown_and_html_are_accepted(
    server: tuple[Server, dict[str, Route]], content_type: str, media_type: str
) -> None:
    state, routes = server
    routes["/doc"] = send(b"# Kelp\n\nKelp grows fast.", content_type=content_type)

    assert _fetch(state.url("/doc"), allow_private_urls=True).media_type == media_type
