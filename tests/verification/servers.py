"""Loopback stand-ins for the internet: an HTTPS server and a DNS server.

:class:`WebServer` serves HTTPS on 127.0.0.2 with a certificate from a ``trustme`` CA for
the test names (``*.test``, ``*.example``, ``x.com``, ``t.me``); a test says what each
``(host, path)`` answers. :class:`DnsServer` (``dnslib``) answers A queries for those names
with 127.0.0.2, and the TXT, A and AAAA records a test sets; it can answer SERVFAIL.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import trustme
from dnslib import AAAA, QTYPE, RCODE, RR, TXT, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer

SERVER_ADDRESS = "127.0.0.2"
TEST_SUFFIXES = (".test", ".example", ".social", "x.com", "t.me")
# OpenSSL matches no wildcard right under a top-level domain, so names are listed.
CERT_NAMES = [
    "alice.test", "www.alice.test", "intranet.test", "alice.example", "social.test",
    "profile.test", "alice.bsky.social", "pds.test", "plc.test", "api.github.test", "x.com", "t.me",
    *(f"site{n}.test" for n in range(200)),
]  # fmt: skip


# Seconds a reply meant to time out waits before it is sent: far past any timeout the tests
# set, so the client gives up first however busy the machine is (the handler threads are
# daemons, so none holds up the end of the tests).
SILENT = 60.0


@dataclass
class Reply:
    """One HTTP answer: status, body, headers; ``delay`` seconds before it is sent."""

    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def content(self) -> bytes:
        return self.body.encode() if isinstance(self.body, str) else self.body


Route = Reply | Callable[[], Reply]


@dataclass
class Seen:
    host: str
    path: str
    headers: dict[str, str]


class WebServer:
    """A threaded HTTPS server on ``127.0.0.2`` port 0; routes are set per test."""

    def __init__(self, ca: trustme.CA):
        self.routes: dict[tuple[str, str], Route] = {}
        self.seen: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
                if host.startswith("["):
                    host = self.headers.get("Host", "").lower()
                server.seen.append(Seen(host, self.path, dict(self.headers.items())))
                route = server.routes.get((host, self.path))
                reply = route() if callable(route) else route
                if reply is None:
                    reply = Reply(404, b"not found")
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.content()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    pass

            def log_message(self, format, *args):  # noqa: A002
                pass

        self.httpd = ThreadingHTTPServer((SERVER_ADDRESS, 0), Handler)
        self.httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert(*CERT_NAMES).configure_cert(context)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> WebServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def reset(self) -> None:
        self.routes.clear()
        self.seen.clear()

    def serve(self, url_host: str, path: str, route: Route) -> None:
        self.routes[(url_host.lower(), path)] = route


class _Zone(BaseResolver):
    def __init__(self):
        self.records: dict[tuple[str, str], list[str] | Callable[[], list[str]]] = {}
        self.servfail: set[str] = set()

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        qtype = QTYPE[request.q.qtype]
        if name in self.servfail:
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        values = self.records.get((name, qtype))
        if callable(values):
            values = values()
        if values is None and qtype == "A" and not name.startswith("_"):
            if name.endswith(TEST_SUFFIXES):
                values = [SERVER_ADDRESS]
        known = any(key[0] == name for key in self.records) or (
            name.endswith(TEST_SUFFIXES) and not name.startswith("_")
        )
        if not known:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        make = {"A": A, "AAAA": AAAA, "TXT": TXT}.get(qtype)
        for value in values or []:
            reply.add_answer(RR(request.q.qname, request.q.qtype, rdata=make(value), ttl=300))
        return reply


class DnsServer:
    """A dnslib UDP server on 127.0.0.1 port 0 answering from a per-test zone."""

    def __init__(self):
        self.zone = _Zone()
        self.server = DNSServer(
            self.zone, address="127.0.0.1", port=0, logger=DNSLogger("-request,-reply,-recv,-send")
        )
        self.port = self.server.server.server_address[1]

    def start(self) -> DnsServer:
        self.server.start_thread()
        return self

    def stop(self) -> None:
        self.server.stop()
        self.server.server.server_close()

    def reset(self) -> None:
        self.zone.records.clear()
        self.zone.servfail.clear()

    def set(self, name: str, rdtype: str, *values: str) -> None:
        self.zone.records[(name.lower(), rdtype)] = list(values)

    def set_dynamic(self, name: str, rdtype: str, answer: Callable[[], list[str]]) -> None:
        """Answer ``name`` with whatever ``answer()`` returns at each query."""
        self.zone.records[(name.lower(), rdtype)] = answer

    def fail(self, name: str) -> None:
        self.zone.servfail.add(name.lower())
