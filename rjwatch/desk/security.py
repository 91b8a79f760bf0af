"""The desk's guards: the access token (when it listens beyond loopback), the CSRF token of every
write, and the response headers (Content-Security-Policy without inline scripts, no sniffing, no
framing, no referrer sent to the pages the desk links to: `same-origin`, since `no-referrer` would
turn the Origin of the desk's own POSTs into "null").

On a loopback address the desk answers only to loopback names (rjwatch.desk.app.LOOPBACK_NAMES), so
a page of another site whose name was re-pointed at 127.0.0.1 (DNS rebinding) cannot read it.

CSRF is a double-submit token: a random value in a SameSite=Strict cookie, repeated in a hidden field
of every form; a POST whose field does not equal its cookie is refused before anything is read.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

#: Cookie holding the CSRF token (double submit).
CSRF_COOKIE = "rjdesk_csrf"
#: Form field repeating it.
CSRF_FIELD = "csrf"
#: Cookie holding the access token once given (only when the desk requires one).
TOKEN_COOKIE = "rjdesk_token"
#: Random bytes in a CSRF token: 256 bits, beyond guessing.
CSRF_BYTES = 32
#: Scripts, styles and images only from the desk itself; no inline script, no plugin, no framing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # no referrer to the pages linked to; Origin still sent on POST
}


def mask(token: str) -> str:
    """A token as printed: enough to tell which one, not enough to use it."""
    return token[:2] + "…" + token[-2:] if len(token) > 8 else "…"


def csrf_token(request: Request) -> str:
    """This browser's CSRF token (made on its first visit; the response sets the cookie)."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = secrets.token_urlsafe(CSRF_BYTES)
        request.state.new_csrf = token
    return token


def csrf_ok(request: Request, form_value: str | None) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE)
    return bool(cookie and form_value) and hmac.compare_digest(cookie, str(form_value))


def same_origin(request: Request) -> bool:
    """A POST's Origin (when the browser sends one) is the desk's own."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host")


def local_path(value: str | None, default: str = "/") -> str:
    """Where to go after a write: a path on the desk, never another site."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


class Guard(BaseHTTPMiddleware):
    """The access token (if any) on every request, and the security headers on every response."""

    def __init__(self, app, token: str | None = None):
        super().__init__(app)
        self.token = token

    def _authorised(self, request: Request) -> bool:
        if not self.token:
            return True
        given = request.cookies.get(TOKEN_COOKIE) or ""
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        return hmac.compare_digest(given.encode(), self.token.encode())

    async def dispatch(self, request: Request, call_next) -> Response:
        if self.token and request.method == "GET" and "token" in request.query_params:
            # A link carrying the token: keep it in a cookie and drop it from the address bar.
            if hmac.compare_digest(request.query_params["token"].encode(), self.token.encode()):
                resp = RedirectResponse(request.url.path, status_code=303)
                resp.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
                return self._headers(resp)
        if not self._authorised(request):
            return self._headers(
                PlainTextResponse("a token is needed: open the address printed by `rjwatch serve`", 401)
            )
        if request.method not in ("GET", "HEAD") and not same_origin(request):
            return self._headers(PlainTextResponse("refused: the request comes from another site", 403))
        response = await call_next(request)
        new = getattr(request.state, "new_csrf", None)
        if new and not request.cookies.get(CSRF_COOKIE):
            response.set_cookie(CSRF_COOKIE, new, httponly=True, samesite="strict")
        return self._headers(response)

    @staticmethod
    def _headers(response: Response) -> Response:
        for k, v in HEADERS.items():
            response.headers.setdefault(k, v)
        return response
