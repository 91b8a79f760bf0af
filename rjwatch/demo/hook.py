"""A local webhook endpoint for the demo: receives Apprise `json://` alerts on 127.0.0.1 and keeps them.

This module owns the demo's stand-in for a team chat or an alerting service. Every POST is kept in
memory and appended as one JSON line to a file (`webhook.jsonl` in the demo folder), with the
`X-Rjwatch-Key` idempotency header, so what the newcomer is told ("2 deliveries") can be checked
afterwards. It answers 200 to every POST and binds to loopback only.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

#: Largest request body read. Apprise's JSON messages are a few KB; anything bigger is not ours.
MAX_BODY_BYTES = 1_000_000


class WebhookReceiver:
    """`with WebhookReceiver(path) as hook:` serves on 127.0.0.1; `hook.apprise_url` is the channel URL."""

    def __init__(self, log_path: Path | None = None, port: int = 0):
        self.log_path = Path(log_path) if log_path else None
        self.received: list[dict] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # the base class names it
                length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY_BYTES)
                body = self.rfile.read(length)
                try:
                    payload = json.loads(body or b"{}")
                except ValueError:
                    payload = {"raw": body.decode("utf-8", "replace")}
                receiver._record(
                    {
                        "at": time.time(),
                        "path": self.path,
                        "key": self.headers.get("X-Rjwatch-Key"),
                        "title": payload.get("title") if isinstance(payload, dict) else None,
                        "payload": payload,
                    }
                )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass  # kept in `received` and the log file instead

        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="demo-webhook", daemon=True)

    def _record(self, entry: dict) -> None:
        with self._lock:
            self.received.append(entry)
            if self.log_path is not None:
                with self.log_path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(entry, ensure_ascii=False) + "\n")

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def apprise_url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def deliveries(self) -> list[dict]:
        with self._lock:
            return list(self.received)

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
