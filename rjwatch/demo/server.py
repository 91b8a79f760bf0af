"""Serving demo sites on loopback HTTP/1.1, with a request log and injectable faults.

This module owns the sockets: `SiteServer` runs one site (a `Blog` or `NewsFeed` from
`rjwatch.demo.site`, or anything with the same `render(path_with_query, host, request_headers)`)
at the root of its own `127.0.0.1:PORT`, like a real blog host; `serve_network` starts one server
per site of a network. It binds to loopback addresses only and refuses anything else.

Each server keeps a thread-safe `RequestLog` (one record per request: time, method, path, Host
header, status, User-Agent, bytes sent, duration, fault) with counters and the peak number of
requests in flight at once (handlers count themselves in and out, so a test can check a
crawler's per-host concurrency limit).

`server.faults` injects misbehaviour at runtime, each fault limited to matching paths
(`fnmatch` patterns on the path, query excluded), optionally to a number of firings, and always
to a lifetime (default `DEFAULT_FAULT_SECONDS`); sizes and delays are capped by the constants
below. Kinds:

    rate_limit         429 + Retry-After for the first K requests to each URL, or every Mth request
    burst_503          503 + Retry-After for the next K matching requests
    slow               wait before answering (then answer normally)
    drip               send the body a few bytes at a time with pauses
    truncate           announce the full Content-Length, send part of the body, close
    broken_chunked     chunked encoding with a malformed chunk-size line, then close
    redirect_loop      302 to the same path with ?loop=1, 2, ... back to the start: a cycle
    huge               a generated HTML page of `size` bytes (default 50 MB), streamed in chunks
                       (with or without Content-Length)
    gzip_bomb          a ~1 MB gzip body that inflates to ~1 GB of zeros, Content-Encoding: gzip
    hang               accept the request and never answer (until the server stops)
    status             a fixed status (404, 410, 500, ...) for the path
    html_instead_of_feed  an HTML page (the site's home page) where a feed was asked for

`stop()` returns within about a second even with hanging or dripping handlers: handler threads
are daemons, waits are on the server's stop event, and open connections are shut down.

Why one module of this size: the demo's HTTP servers and their hostile behaviours (dribbling,
hanging, redirect chains, oversize answers) used by the tests, each a few lines.
"""

from __future__ import annotations

import fnmatch
import functools
import ipaddress
import socket
import struct
import threading
import time
import zlib
from collections import Counter, deque
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "SiteServer",
    "ServerGroup",
    "serve_network",
    "Faults",
    "Fault",
    "RequestLog",
    "RequestRecord",
    "FAULT_KINDS",
    "gzip_bomb_body",
]

# ---------------------------------------------------------------------------------------------
# Caps and timings

#: How often the accept loop checks for shutdown; bounds how long `stop()` waits for it.
POLL_SECONDS = 0.05

#: Socket timeout of a connection's handler: an idle keep-alive connection (or a client that
#: stops reading) is dropped after this long instead of holding a thread forever.
SOCKET_TIMEOUT_SECONDS = 10.0

#: How long `stop()` waits for the accept thread to finish after shutdown was requested.
STOP_JOIN_SECONDS = 1.0

#: Records kept per request log (the oldest are dropped first); counters keep counting.
MAX_LOG_RECORDS = 200_000

#: Lifetime of a fault when none is given, and the longest lifetime accepted: faults must not
#: outlive the test or demo that set them up.
DEFAULT_FAULT_SECONDS = 600.0
MAX_FAULT_SECONDS = 3600.0

#: Longest `slow` delay and longest `hang`: a stuck handler is released after this even if the
#: server keeps running.
MAX_DELAY_SECONDS = 60.0
MAX_HANG_SECONDS = 600.0

#: Longest a `drip` response keeps dripping; the rest of the body is then sent at once.
MAX_DRIP_SECONDS = 120.0

#: Largest Retry-After a rate-limit fault announces (an hour, as real sites rarely ask more).
MAX_RETRY_AFTER_SECONDS = 3600

#: Longest redirect cycle.
MAX_REDIRECT_LOOP = 50

#: Default and largest size of a `huge` page. 50 MB is far above any real blog page (the largest
#: in our corpus is 420 KB); 2 GB bounds what a misconfigured test can make a client download.
DEFAULT_HUGE_BYTES = 50 * 1024 * 1024
MAX_HUGE_BYTES = 2 * 1024 * 1024 * 1024

#: Bytes per write when streaming a huge page: the server never holds more than this of it.
HUGE_CHUNK_BYTES = 64 * 1024

#: Default and largest inflated size of the gzip bomb (1 GiB of zeros compresses to ~1 MB).
DEFAULT_BOMB_INFLATED = 1024 * 1024 * 1024
MAX_BOMB_INFLATED = 4 * 1024 * 1024 * 1024 - 1024 * 1024

#: Block of zeros the bomb is built from; the inflated size is rounded up to whole blocks.
BOMB_BLOCK_BYTES = 1024 * 1024

#: Default drip: bytes per write and pause between writes.
DEFAULT_DRIP_CHUNK = 64
DEFAULT_DRIP_PAUSE = 0.05

FAULT_KINDS = (
    "rate_limit", "burst_503", "slow", "drip", "truncate", "broken_chunked", "redirect_loop",
    "huge", "gzip_bomb", "hang", "status", "html_instead_of_feed",
)  # fmt: skip

#: Faults that replace the site's answer; the others change how (or when) it is delivered.
_RESPONDERS = frozenset(
    {
        "rate_limit",
        "burst_503",
        "redirect_loop",
        "huge",
        "gzip_bomb",
        "hang",
        "status",
        "html_instead_of_feed",
    }  # fmt: skip
)
_DELIVERY = frozenset({"drip", "truncate", "broken_chunked"})

_LOOPBACK_NAMES = {"localhost": "127.0.0.1", "localhost.": "127.0.0.1", "ip6-localhost": "::1"}


def loopback_address(host: str) -> str:
    """The loopback IP to bind for `host`; ValueError for anything that is not loopback."""
    name = (host or "").strip().strip("[]").lower()
    if name in _LOOPBACK_NAMES:
        return _LOOPBACK_NAMES[name]
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        raise ValueError(f"demo servers bind only to loopback addresses, not {host!r}") from None
    if not ip.is_loopback:
        raise ValueError(f"demo servers bind only to loopback addresses, not {host!r}")
    return str(ip)


# ---------------------------------------------------------------------------------------------
# Fault payloads


@functools.lru_cache(maxsize=4)
def gzip_bomb_body(inflated: int = DEFAULT_BOMB_INFLATED) -> bytes:
    """A single-member gzip stream of `inflated` zero bytes (rounded up to whole MiB), built once.

    The deflate data of one MiB of zeros is made with a full flush, which byte-aligns it and resets
    the compressor, so the same piece repeated N times is a valid stream of N MiB; only the CRC has
    to run over all the zeros.
    """
    blocks = max(1, -(-min(inflated, MAX_BOMB_INFLATED) // BOMB_BLOCK_BYTES))
    zeros = bytes(BOMB_BLOCK_BYTES)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    repeat = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    end = comp.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(blocks):
        crc = zlib.crc32(zeros, crc)
    size = blocks * BOMB_BLOCK_BYTES
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + first + repeat * (blocks - 1) + end + struct.pack("<II", crc, size & 0xFFFFFFFF)


_HUGE_HEAD = b"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>Archive dump</title></head><body>\n"
_HUGE_TAIL = b"</body></html>\n"
_HUGE_LINE = b"<p>Lorem ipsum archive line: nothing to see here, only bytes to download.</p>\n"
_HUGE_BLOCK = (_HUGE_LINE * (HUGE_CHUNK_BYTES // len(_HUGE_LINE) + 1))[:HUGE_CHUNK_BYTES]


# ---------------------------------------------------------------------------------------------
# Faults


@dataclass
class Fault:
    """One configured fault. `times` bounds how often it fires, `expires_at` when it stops."""

    kind: str
    path: str
    params: dict
    times: int | None
    expires_at: float
    fired: int = 0
    seen: int = 0
    per_url: dict = field(default_factory=dict)

    def matches(self, path: str) -> bool:
        return fnmatch.fnmatchcase(path, self.path)

    @property
    def spent(self) -> bool:
        return (self.times is not None and self.fired >= self.times) or time.monotonic() >= self.expires_at


class Faults:
    """The faults of one server, changeable at any time from any thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self, kind: str, path: str = "*", *, times: int | None = None, seconds: float = DEFAULT_FAULT_SECONDS, **params
    ) -> Fault:
        """Add a fault of `kind` for paths matching `path` (fnmatch, query excluded).

        `times` caps how often it fires; `seconds` is its lifetime (at most MAX_FAULT_SECONDS).
        Kind-specific `params` are described on the convenience methods below.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        params = self._check(kind, dict(params))
        if kind == "burst_503" and times is None:
            times = params.pop("count")
        if kind == "gzip_bomb":
            gzip_bomb_body(params["inflated"])  # build (and cache) now, not on the first request
        seconds = min(max(0.0, float(seconds)), MAX_FAULT_SECONDS)
        fault = Fault(kind=kind, path=path, params=params, times=times, expires_at=time.monotonic() + seconds)
        with self._lock:
            self._faults.append(fault)
        return fault

    @staticmethod
    def _check(kind: str, p: dict) -> dict:
        def clamp(value, lo, hi):
            return max(lo, min(hi, value))

        if kind == "rate_limit":
            if (p.get("first") is None) == (p.get("every") is None):
                raise ValueError("rate_limit needs exactly one of first=K or every=M")
            if p.get("every") is not None and int(p["every"]) < 1:
                raise ValueError("rate_limit every must be >= 1")
            p["retry_after"] = clamp(int(p.get("retry_after", 1)), 0, MAX_RETRY_AFTER_SECONDS)
        elif kind == "burst_503":
            p["count"] = int(p.get("count", 1))
            p["retry_after"] = clamp(int(p.get("retry_after", 1)), 0, MAX_RETRY_AFTER_SECONDS)
        elif kind == "slow":
            p["delay"] = clamp(float(p.get("delay", 1.0)), 0.0, MAX_DELAY_SECONDS)
        elif kind == "drip":
            p["chunk"] = max(1, int(p.get("chunk", DEFAULT_DRIP_CHUNK)))
            p["pause"] = clamp(float(p.get("pause", DEFAULT_DRIP_PAUSE)), 0.0, MAX_DELAY_SECONDS)
            p["max_seconds"] = clamp(float(p.get("max_seconds", MAX_DRIP_SECONDS)), 0.0, MAX_DRIP_SECONDS)
        elif kind == "truncate":
            p["keep"] = clamp(float(p.get("keep", 0.5)), 0.0, 0.99)
        elif kind == "redirect_loop":
            p["length"] = clamp(int(p.get("length", 2)), 1, MAX_REDIRECT_LOOP)
            p["code"] = int(p.get("code", 302))
            if p["code"] not in (301, 302, 303, 307, 308):
                raise ValueError("redirect_loop code must be a redirect status")
        elif kind == "huge":
            smallest = len(_HUGE_HEAD) + len(_HUGE_TAIL)
            p["size"] = clamp(int(p.get("size", DEFAULT_HUGE_BYTES)), smallest, MAX_HUGE_BYTES)
            p["content_length"] = bool(p.get("content_length", True))
        elif kind == "gzip_bomb":
            inflated = int(p.get("inflated", DEFAULT_BOMB_INFLATED))
            p["inflated"] = clamp(inflated, BOMB_BLOCK_BYTES, MAX_BOMB_INFLATED)
        elif kind == "hang":
            p["seconds"] = clamp(float(p.get("seconds", MAX_HANG_SECONDS)), 0.0, MAX_HANG_SECONDS)
        elif kind == "status":
            p["code"] = int(p.get("code", 500))
            if not 400 <= p["code"] <= 599:
                raise ValueError("status fault code must be 4xx or 5xx")
        return p

    # --- convenience constructors ---

    def rate_limit(
        self, path: str = "*", *, first: int | None = None, every: int | None = None, retry_after: int = 1, **kw
    ) -> Fault:
        """429 with `Retry-After: retry_after` for the first `first` requests to each URL, or for
        every `every`-th matching request."""
        return self.add("rate_limit", path, first=first, every=every, retry_after=retry_after, **kw)

    def burst_503(self, count: int, path: str = "*", *, retry_after: int = 1, **kw) -> Fault:
        """503 with Retry-After for the next `count` matching requests."""
        return self.add("burst_503", path, count=count, retry_after=retry_after, **kw)

    def slow(self, path: str, delay: float, **kw) -> Fault:
        return self.add("slow", path, delay=delay, **kw)

    def drip(
        self,
        path: str,
        *,
        chunk: int = DEFAULT_DRIP_CHUNK,
        pause: float = DEFAULT_DRIP_PAUSE,
        max_seconds: float = MAX_DRIP_SECONDS,
        **kw,
    ) -> Fault:
        return self.add("drip", path, chunk=chunk, pause=pause, max_seconds=max_seconds, **kw)

    def truncate(self, path: str, *, keep: float = 0.5, **kw) -> Fault:
        """Send only the first `keep` share of the body after announcing its full length."""
        return self.add("truncate", path, keep=keep, **kw)

    def broken_chunked(self, path: str, **kw) -> Fault:
        return self.add("broken_chunked", path, **kw)

    def redirect_loop(self, path: str, *, length: int = 2, code: int = 302, **kw) -> Fault:
        return self.add("redirect_loop", path, length=length, code=code, **kw)

    def huge(self, path: str, *, size: int = DEFAULT_HUGE_BYTES, content_length: bool = True, **kw) -> Fault:
        return self.add("huge", path, size=size, content_length=content_length, **kw)

    def gzip_bomb(self, path: str, *, inflated: int = DEFAULT_BOMB_INFLATED, **kw) -> Fault:
        return self.add("gzip_bomb", path, inflated=inflated, **kw)

    def hang(self, path: str, *, seconds: float = MAX_HANG_SECONDS, **kw) -> Fault:
        return self.add("hang", path, seconds=seconds, **kw)

    def status(self, path: str, code: int, **kw) -> Fault:
        return self.add("status", path, code=code, **kw)

    def html_instead_of_feed(self, path: str = "/feeds/*", **kw) -> Fault:
        return self.add("html_instead_of_feed", path, **kw)

    # --- management ---

    def remove(self, fault: Fault) -> None:
        with self._lock:
            self._faults = [f for f in self._faults if f is not fault]

    def clear(self) -> None:
        with self._lock:
            self._faults = []

    def active(self) -> list[Fault]:
        with self._lock:
            self._faults = [f for f in self._faults if not f.spent]
            return list(self._faults)

    def plan(self, path: str, target: str) -> tuple[Fault | None, Fault | None, Fault | None]:
        """(delay, responder, delivery) faults that fire for this request; counters updated."""
        delay = responder = delivery = None
        with self._lock:
            self._faults = [f for f in self._faults if not f.spent]
            for f in self._faults:
                if not f.matches(path):
                    continue
                if f.kind == "slow":
                    if delay is None:
                        delay = f
                        f.fired += 1
                elif f.kind in _DELIVERY:
                    if delivery is None:
                        delivery = f
                        f.fired += 1
                elif responder is None:
                    if f.kind == "rate_limit":
                        f.seen += 1
                        if f.params.get("first") is not None:
                            n = f.per_url.get(target, 0)
                            if n >= int(f.params["first"]):
                                continue
                            f.per_url[target] = n + 1
                        elif f.seen % int(f.params["every"]) != 0:
                            continue
                    responder = f
                    f.fired += 1
        return delay, responder, delivery


# ---------------------------------------------------------------------------------------------
# Request log


@dataclass(frozen=True)
class RequestRecord:
    time: float  # wall-clock time the request arrived (time.time())
    method: str
    path: str  # the request target as sent: path and query
    host: str | None  # the Host header
    status: int  # 0 when no response was sent (hang, client gone)
    user_agent: str | None
    bytes: int  # body bytes written
    duration: float
    fault: str | None  # the fault that shaped the answer, if any


class RequestLog:
    """Requests seen by one server, and how many were in flight at once.

    A record is appended when its response has been written completely, so a client can hold its
    answer a moment before the record exists: use `wait_for` before inspecting the log.
    """

    def __init__(self, max_records: int = MAX_LOG_RECORDS):
        self._lock = threading.Condition()
        self._records: deque = deque(maxlen=max_records)
        self.total = 0
        self.by_status: Counter = Counter()
        self.in_flight = 0
        self.peak_in_flight = 0

    def enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def leave(self, record: RequestRecord) -> None:
        with self._lock:
            self.in_flight -= 1
            self.total += 1
            self.by_status[record.status] += 1
            self._records.append(record)
            self._lock.notify_all()

    def wait_for(self, total: int, timeout: float = 5.0) -> bool:
        """Wait until `total` requests have completed since the last reset (and none is in flight);
        False on timeout."""
        with self._lock:
            return self._lock.wait_for(lambda: self.total >= total and self.in_flight == 0, timeout)

    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def count(self, path: str | None = None, status: int | None = None, method: str | None = None) -> int:
        """Retained records matching all given filters (`path` is an fnmatch pattern on the
        target)."""
        return sum(
            1
            for r in self.records()
            if (path is None or fnmatch.fnmatchcase(r.path, path))
            and (status is None or r.status == status)
            and (method is None or r.method == method)
        )

    def reset(self) -> None:
        with self._lock:
            self._records.clear()
            self.total = 0
            self.by_status = Counter()
            self.peak_in_flight = self.in_flight


# ---------------------------------------------------------------------------------------------
# HTTP


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, handler, site: SiteServer, family):
        self.address_family = family
        self.site = site
        super().__init__(address, handler)

    def verify_request(self, request, client_address) -> bool:
        return not self.site._stopping.is_set()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GSE"
    sys_version = ""
    timeout = SOCKET_TIMEOUT_SECONDS

    def setup(self):
        super().setup()
        self.server.site._track(self.connection)

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.site._untrack(self.connection)

    def log_message(self, format, *args):  # the base class's signature
        pass  # requests go to the RequestLog instead of stderr

    def version_string(self) -> str:
        return self.server_version  # what blogspot hosts send, without a Python version

    def do_GET(self):
        self._serve(head=False)

    def do_HEAD(self):
        self._serve(head=True)

    # Blogs are read-only: other methods are logged and refused.
    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    # --- plumbing ---

    def _start(self, status: int, headers: dict, length: int | None) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if length is not None:
            self.send_header("Content-Length", str(length))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self._status = status

    def _write(self, data: bytes) -> None:
        self.wfile.write(data)
        self._sent += len(data)

    def _simple(self, status: int, head: bool, headers: dict | None = None, message: str | None = None) -> None:
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        body = (
            f"<!DOCTYPE html><html><head><title>{status} {phrase}</title></head>"
            f"<body><h1>{status} {phrase}</h1><p>{message or ''}</p></body></html>"
        ).encode()
        self._start(status, {"Content-Type": "text/html; charset=UTF-8", **(headers or {})}, len(body))
        if not head:
            self._write(body)

    def _serve(self, head: bool) -> None:
        site: SiteServer = self.server.site
        started, wall = time.monotonic(), time.time()
        self._status, self._sent = 0, 0
        fault_kind = None
        site.log.enter()
        try:
            fault_kind = self._respond(site, head)
        except (OSError, ValueError):
            # The client went away, a socket timed out, or the server is stopping.
            self.close_connection = True
        finally:
            site.log.leave(
                RequestRecord(
                    time=wall,
                    method=self.command,
                    path=self.path,
                    host=self.headers.get("Host"),
                    status=self._status,
                    user_agent=self.headers.get("User-Agent"),
                    bytes=self._sent,
                    duration=time.monotonic() - started,
                    fault=fault_kind,
                )
            )

    def _respond(self, site: SiteServer, head: bool) -> str | None:
        target = self.path
        if target.startswith(("http://", "https://")):  # absolute-form request target
            parts = urlsplit(target)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        parts = urlsplit(target)
        path = parts.path or "/"
        host = self.headers.get("Host") or site.netloc
        if self.command not in ("GET", "HEAD"):
            self.close_connection = True  # the request body, if any, is not read
            self._simple(405, False, {"Allow": "GET, HEAD"})
            return None
        delay, responder, delivery = site.faults.plan(path, target)
        kinds = [f.kind for f in (delay, responder, delivery) if f is not None]
        fault_kind = "+".join(kinds) or None

        if delay is not None and site._stopping.wait(delay.params["delay"]):
            self.close_connection = True
            return fault_kind

        if responder is not None:
            k, p = responder.kind, responder.params
            if k == "hang":
                site._stopping.wait(p["seconds"])
                self.close_connection = True
                return fault_kind
            if k in ("rate_limit", "burst_503"):
                code = 429 if k == "rate_limit" else 503
                self._simple(code, head, {"Retry-After": str(p["retry_after"])}, "Please slow down.")
                return fault_kind
            if k == "status":
                self._simple(p["code"], head)
                return fault_kind
            if k == "redirect_loop":
                step = dict(parse_qsl(parts.query)).get("loop", "0")
                nxt = (int(step) + 1) % p["length"] if step.isdigit() else 1 % p["length"]
                location = f"http://{host}{path}" + (f"?loop={nxt}" if nxt else "")
                self._start(p["code"], {"Location": location, "Content-Type": "text/html; charset=UTF-8"}, 0)
                return fault_kind
            if k == "huge":
                self._huge(site, p["size"], p["content_length"], head)
                return fault_kind
            if k == "gzip_bomb":
                body = gzip_bomb_body(p["inflated"])
                headers = {"Content-Type": "text/html; charset=UTF-8", "Content-Encoding": "gzip"}
                self._start(200, headers, len(body))
                if not head:
                    self._write(body)
                return fault_kind
            if k == "html_instead_of_feed":
                status, headers, body = site.app.render("/", host, self.headers)
                if status != 200 or not body.lstrip().startswith(b"<"):
                    body = b"<!DOCTYPE html><html><head><title>Home</title></head><body></body></html>"
                status, headers = 200, {"Content-Type": "text/html; charset=UTF-8"}
            else:  # pragma: no cover - every responder kind is handled above
                raise AssertionError(k)
        else:
            status, headers, body = site.app.render(target, host, self.headers)

        if head or status == 304 or not body:
            self._start(status, headers, len(body))
            if not head and status != 304:
                self._write(body)
            return fault_kind
        if delivery is None:
            self._start(status, headers, len(body))
            self._write(body)
            return fault_kind
        k, p = delivery.kind, delivery.params
        if k == "truncate":
            self.close_connection = True
            self._start(status, headers, len(body))
            self._write(body[: int(len(body) * p["keep"])])
        elif k == "broken_chunked":
            self.close_connection = True
            self._start(status, {**headers, "Transfer-Encoding": "chunked"}, None)
            first = body[: max(1, len(body) // 3)]
            self._write(b"%x\r\n" % len(first) + first + b"\r\n")
            self._write(b"zz-not-a-chunk-size\r\n" + body[len(first) : len(first) + 64] + b"\r\n")
        elif k == "drip":
            self._start(status, headers, len(body))
            deadline = time.monotonic() + p["max_seconds"]
            pos = 0
            while pos < len(body):
                if time.monotonic() >= deadline:
                    self._write(body[pos:])
                    break
                self._write(body[pos : pos + p["chunk"]])
                self.wfile.flush()
                pos += p["chunk"]
                if pos < len(body) and site._stopping.wait(p["pause"]):
                    self.close_connection = True
                    break
        return fault_kind

    def _huge(self, site: SiteServer, size: int, with_length: bool, head: bool) -> None:
        headers = {"Content-Type": "text/html; charset=UTF-8"}
        if not with_length:
            self.close_connection = True  # the end of the body is the end of the connection
        self._start(200, headers, size if with_length else None)
        if head:
            return
        self._write(_HUGE_HEAD)
        remaining = size - len(_HUGE_HEAD) - len(_HUGE_TAIL)
        while remaining > 0:
            if site._stopping.is_set():
                self.close_connection = True
                return
            block = _HUGE_BLOCK if remaining >= len(_HUGE_BLOCK) else _HUGE_BLOCK[:remaining]
            self._write(block)
            remaining -= len(block)
        self._write(_HUGE_TAIL)


class SiteServer:
    """One demo site served over HTTP/1.1 on a loopback address (`port=0`: any free port).

    Use as a context manager or call `start()` / `stop()`. `base_url` is `http://127.0.0.1:PORT`;
    `alias_url` is the same site under `localhost`, a second host name for the same blog.
    A blog served here without a `canonical_host` of its own gets this server's host:port as its
    canonical host while the server runs.
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0):
        self.app = app
        self.host = loopback_address(host)
        self._requested_port = int(port)
        self.port: int | None = None
        self.faults = Faults()
        self.log = RequestLog()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._conns: set = set()
        self._conns_lock = threading.Lock()
        self._set_canonical = False

    # --- addresses ---

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("server not started")
        return f"http://{self.netloc}"

    @property
    def alias_url(self) -> str:
        """The same site under the name `localhost` (another Host header for the same blog)."""
        if self.port is None:
            raise RuntimeError("server not started")
        return f"http://localhost:{self.port}"

    # --- log shortcuts ---

    @property
    def requests(self) -> list[RequestRecord]:
        return self.log.records()

    @property
    def peak_in_flight(self) -> int:
        return self.log.peak_in_flight

    def reset_log(self) -> None:
        self.log.reset()

    # --- life cycle ---

    def start(self) -> SiteServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._httpd = _HTTPServer((self.host, self._requested_port), _Handler, self, family)
        self.port = self._httpd.server_address[1]
        if getattr(self.app, "canonical_host", "") is None:
            self.app.canonical_host = self.netloc
            self._set_canonical = True
        name = getattr(self.app, "key", "site")
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": POLL_SECONDS},
            name=f"demo-{name}-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; returns within about a second even with handlers hanging or dripping."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        httpd.server_close()
        if thread is not None:
            thread.join(STOP_JOIN_SECONDS)
        if self._set_canonical:
            self.app.canonical_host = None
            self._set_canonical = False
        self._httpd = self._thread = None

    def _track(self, conn) -> None:
        with self._conns_lock:
            self._conns.add(conn)
        if self._stopping.is_set():
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _untrack(self, conn) -> None:
        with self._conns_lock:
            self._conns.discard(conn)

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self.port is not None else "not started"
        return f"<SiteServer {getattr(self.app, 'key', '?')} {where}>"


class ServerGroup(dict):
    """`{key: SiteServer}` for a served network; `stop()` (or leaving the `with`) stops them all."""

    @property
    def urls(self) -> dict:
        return {key: server.base_url for key, server in self.items()}

    def stop(self) -> None:
        for server in self.values():
            server.stop()

    def __enter__(self) -> ServerGroup:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_network(network, host: str = "127.0.0.1") -> ServerGroup:
    """Start one `SiteServer` per site (each on its own port, at the root, like real hosts).

    `network` is a `site.Network`, a mapping `{key: site}`, or an iterable of sites with a `key`.
    """
    if hasattr(network, "apps"):
        apps = network.apps()
    elif isinstance(network, dict):
        apps = dict(network)
    else:
        apps = {app.key: app for app in network}
    group = ServerGroup()
    try:
        for key, app in apps.items():
            group[key] = SiteServer(app, host=host).start()
    except BaseException:
        group.stop()
        raise
    return group
