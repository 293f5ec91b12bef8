"""HTTP plumbing shared by the Planhat and Dust emulators.

Both emulators need the same unpleasant parts of a real service: a request log that
tests and benchmarks read, injected faults, per-request latency and a sliding-window
rate limit. They live here once; each emulator only routes requests to its handlers.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_STATUS_FAULTS = ("500", "502", "503", "429")
"""Faults answered with an error status in the emulator's own envelope (`fault_reply`)."""
FAULT_KINDS = (*_STATUS_FAULTS, "slow", "drop", "truncate")


@dataclass
class Faults:
    """Which requests fail, and how.

    `rate` is the share of requests (0..1) answered with a fault drawn from `kinds`,
    using a seeded generator so a run is repeatable. `schedule` maps a request number
    (1-based, counted over requests whose path starts with `path_prefix`) to a fault
    kind, for tests that need an exact sequence. `slow_seconds` is how long a `slow`
    answer is held back, which should exceed the client's timeout.
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = _STATUS_FAULTS
    schedule: dict[int, str] = field(default_factory=dict)
    path_prefix: str = "/"
    slow_seconds: float = 5.0
    seed: int = 0

    def __post_init__(self) -> None:
        for kind in (*self.kinds, *self.schedule.values()):
            if kind not in FAULT_KINDS:
                msg = f"unknown fault kind {kind!r}; choose from {', '.join(FAULT_KINDS)}"
                raise ValueError(msg)
        self._random = random.Random(self.seed)  # repeatable test faults, not security
        self._count = 0
        self._lock = threading.Lock()

    def draw(self, path: str) -> str | None:
        """Return the fault for this request, or None to answer normally."""
        if not path.startswith(self.path_prefix):
            return None
        with self._lock:
            self._count += 1
            if self._count in self.schedule:
                return self.schedule[self._count]
            if self.rate and self._random.random() < self.rate:
                return self._random.choice(self.kinds)
        return None

    @classmethod
    def parse(cls, spec: str, **kwargs: Any) -> Faults:
        """Build from a command-line spec such as `rate=0.1,kinds=500+429,1=503,4=drop`."""
        rate, kinds, schedule = 0.0, cls.kinds, {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            key, _, value = part.partition("=")
            if key == "rate":
                rate = float(value)
            elif key == "kinds":
                kinds = tuple(value.split("+"))
            elif key.isdigit():
                schedule[int(key)] = value
            else:
                msg = f"bad fault spec part {part!r}"
                raise ValueError(msg)
        return cls(rate=rate, kinds=kinds, schedule=schedule, **kwargs)


@dataclass(frozen=True)
class LogEntry:
    """One request as the emulator saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    bytes: int
    at: float


class RequestLog:
    """Thread-safe record of every request, for assertions and benchmarks."""

    def __init__(self) -> None:
        self._entries: list[LogEntry] = []
        self._lock = threading.Lock()

    def add(self, entry: LogEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
    ) -> list[LogEntry]:
        """Entries filtered by exact method, path prefix and status."""
        with self._lock:
            entries = list(self._entries)
        return [
            e
            for e in entries
            if (method is None or e.method == method)
            and (path is None or e.path.startswith(path))
            and (status is None or e.status == status)
        ]

    def count(self, **filters: Any) -> int:
        return len(self.entries(**filters))

    def bytes(self, **filters: Any) -> int:
        return sum(e.bytes for e in self.entries(**filters))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class SlidingWindow:
    """At most `limit` allowed events in any `window` seconds; rejected calls are not counted.

    This is how Dust's Redis limiter behaves, and close enough to Planhat's quota.
    A limit of 0 or less disables it.
    """

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._events: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> tuple[bool, int, float]:
        """Try to take a slot: (allowed, remaining after this call, seconds until a slot frees)."""
        if self.limit <= 0:
            return True, 0, 0.0
        now = time.monotonic()
        with self._lock:
            while self._events and self._events[0] <= now - self.window:
                self._events.popleft()
            if len(self._events) >= self.limit:
                return False, 0, self._events[0] + self.window - now
            self._events.append(now)
            reset = self._events[0] + self.window - now
            return True, self.limit - len(self._events), reset


class _HTTPServer(ThreadingHTTPServer):
    """A threading server with a deep listen backlog.

    With the default backlog of 5, a client running more than a few requests at once sees
    1 s SYN retries or connection resets that no real service would cause.
    """

    daemon_threads = True
    request_queue_size = 128


@dataclass
class Reply:
    """What a route handler answers: a status, a JSON-able body and extra headers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    """A parsed request handed to an emulator's route handler."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default


class SandboxServer:
    """A loopback HTTP server in a daemon thread with logging, latency and faults.

    Subclasses implement `route(request) -> Reply` and `fault_reply(kind) -> Reply` for
    the error statuses, so each emulator answers faults in its own service's envelope.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        faults: Faults | None = None,
    ) -> None:
        self.latency = latency
        self.faults = faults or Faults()
        self.log = RequestLog()
        self._httpd = _HTTPServer((host, port), self._handler_class())
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SandboxServer:
        # A short poll interval so `stop` returns quickly: tests start many servers.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def route(self, request: Request) -> Reply:  # pragma: no cover - abstract
        raise NotImplementedError

    def fault_reply(self, kind: str) -> Reply:  # pragma: no cover - abstract
        raise NotImplementedError

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        request = Request(
            method=method,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=handler.rfile.read(length) if length else b"",
        )
        if self.latency:
            time.sleep(self.latency)
        fault = self.faults.draw(request.path)
        if fault == "drop":
            self._record(request, 0, 0)
            handler.close_connection = True
            handler.connection.shutdown(2)  # reset without an answer
            return
        if fault == "slow":
            time.sleep(self.faults.slow_seconds)
            fault = None
        reply = self.fault_reply(fault) if fault in _STATUS_FAULTS else self.route(request)
        data = json.dumps(reply.body, ensure_ascii=False).encode()
        if fault == "truncate":  # a complete HTTP answer whose JSON body is cut short
            data = data[: max(1, len(data) // 2)]
        self._record(request, reply.status, len(data))
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", "application/json; charset=utf-8")
            handler.send_header("Content-Length", str(len(data)))
            for key, value in reply.headers.items():
                handler.send_header(key, value)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            pass

    def _record(self, request: Request, status: int, size: int) -> None:
        entry = LogEntry(request.method, request.path, request.query, status, size, time.time())
        self.log.add(entry)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server._serve(self, "GET")

            def do_POST(self) -> None:
                server._serve(self, "POST")

            def do_PUT(self) -> None:
                server._serve(self, "PUT")

            def do_DELETE(self) -> None:
                server._serve(self, "DELETE")

            def log_message(self, *args: object) -> None:
                """Silence the default stderr access log; the RequestLog holds it."""

        return Handler
