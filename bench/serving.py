"""The benchmarks' serving processes: start one, wait for its first line, ask it, stop it.

A benchmark serves its generated sites from a child process (so serving does not share the measured
process's CPU or memory). The child prints one JSON line (with at least its `port`) once it listens,
answers `/_bench/<what>` with JSON, and is stopped by SIGTERM.
"""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.request


class ServerProcess:
    """`args`: the child's command line; `what`: its name in the error; `timeout`: seconds to listen."""

    def __init__(self, args: list[str], what: str, timeout: float):
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        ready: dict = {}

        def read_first_line():
            line = self.proc.stdout.readline()
            if line:
                ready.update(json.loads(line))

        reader = threading.Thread(target=read_first_line, daemon=True)
        reader.start()
        reader.join(timeout)
        if "port" not in ready:
            self.stop()
            raise SystemExit(f"the {what} did not start")
        self.ready = ready
        self.port = ready["port"]

    def ask(self, base: str, what: str) -> dict:
        with urllib.request.urlopen(f"{base}/_bench/{what}", timeout=60) as resp:
            return json.loads(resp.read())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
