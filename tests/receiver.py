"""A local webhook receiver for alert tests: records POSTs, can fail the first N or answer slowly, binds to
127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, fail_first: int = 0, delay: float = 0.0):
        self.fail_first = fail_first
        self.delay = delay  # seconds each answer is held after the request was recorded
        self.requests: list[dict] = []  # every POST, failed or not
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.lock:
                    n = len(receiver.requests)
                    failed = n < receiver.fail_first
                    try:
                        payload = json.loads(body or b"{}")
                    except ValueError:
                        payload = {"raw": body.decode("utf-8", "replace")}
                    receiver.requests.append(
                        {
                            "path": self.path,
                            "key": self.headers.get("X-Rjwatch-Key"),
                            "payload": payload,
                            "ok": not failed,
                        }
                    )
                if receiver.delay:  # a slow receiver is the behaviour under test, not a wait
                    time.sleep(receiver.delay)
                self.send_response(500 if failed else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def delivered(self) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["ok"]]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
