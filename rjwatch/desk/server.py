"""Starting the desk: checking the address it listens on (loopback, or a token for anything else),
printing where to open it (the token masked), and running uvicorn."""

from __future__ import annotations

import ipaddress
import os

from rjwatch.extras import require
from rjwatch.inputs import InputError

#: Environment variable holding the token the desk requires when it listens beyond loopback.
TOKEN_ENV = "RJWATCH_DESK_TOKEN"
#: A shorter token is too easy to guess for a page that can change verdicts and sources.
MIN_TOKEN_CHARS = 16


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(db_path, *, host: str, port: int, open_browser: bool = False, analyst: str | None = None) -> int:
    """Run the desk until interrupted; returns the exit status."""
    require("starlette", "desk", "rjwatch serve")
    uvicorn = require("uvicorn", "desk", "rjwatch serve")
    require("jinja2", "desk", "rjwatch serve")
    require("multipart", "desk", "rjwatch serve")
    from rjwatch.desk.app import LOOPBACK_NAMES, create_app
    from rjwatch.desk.security import mask

    token = os.environ.get(TOKEN_ENV) or None
    if not is_loopback(host):
        if not token:
            raise InputError(f"--host {host} opens the desk to the network: set ${TOKEN_ENV} to a secret token first")
        if len(token) < MIN_TOKEN_CHARS:
            raise InputError(f"${TOKEN_ENV} is too short (at least {MIN_TOKEN_CHARS} characters)")
    loopback = is_loopback(host)
    hosts = sorted({*LOOPBACK_NAMES, host}) if loopback else None
    app = create_app(db_path, token=token, analyst=analyst, hosts=hosts)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    print(f"rjwatch desk at {url}" + (f"?token={mask(token)} (token from ${TOKEN_ENV})" if token else ""), flush=True)
    if open_browser:
        import webbrowser

        webbrowser.open(url + (f"?token={token}" if token else ""))
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, server_header=False)
    uvicorn.Server(config).run()
    return 0
