"""Which addresses rjwatch may fetch: the one check that the crawler (Scrapy) and the HTTP client share.

A URL learned from the network (a link, a redirect hop, a feed's `rel=next`, a feed entry's page)
must not lead to a loopback, private, link-local, reserved or otherwise non-public address, nor to a
scheme other than http(s). A name counts by the addresses it resolves to: `localhost`, or any name
resolving to 127.0.0.1 or 10.x, is private. Only *sites* the user approved are exempt: the URL the
user typed, a registered source, and the entries of the `trusted_hosts` setting.

Trust is per site, not per host. A site is host + effective port (the scheme's default when the URL
names none: http 80, https 443), written `host:port`; trusting the blog at http://127.0.0.1:8001/
does not open the other services of 127.0.0.1, and a source at `http://host/` trusts port 80 of
host only. A bare `host` (every port) comes only from the `trusted_hosts` setting.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlsplit

#: Why a learned URL is refused when its address is not public (also the FetchError wording).
PRIVATE = "private, loopback or link-local address"
#: Default ports by scheme: a URL without a port means this port, and only this port.
DEFAULT_PORTS = {"http": 80, "https": 443}
#: How long a name's resolution is reused by the crawler's check before it is asked again: one
#: lookup per host and minute keeps blocking DNS calls off the crawl's event loop, and a changed
#: record is seen within a minute (the HTTP client checks the address it connects to anyway).
DNS_CACHE_S = 60.0
#: Names that are loopback whatever a resolver says (RFC 6761).
LOOPBACK_NAMES = ("localhost",)


def _host_text(host: str) -> str:
    host = host.lower().rstrip(".")
    return f"[{host}]" if ":" in host else host


def site_key(url: str) -> str | None:
    """`host:port` of an http(s) URL, with the scheme's default port when it names none; None for
    other URLs. `HTTP://Example.org/` -> `example.org:80`, `https://[::1]:8443/x` -> `[::1]:8443`."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except (ValueError, AttributeError):
        return None
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
        return None
    return f"{_host_text(parts.hostname)}:{port or DEFAULT_PORTS[parts.scheme.lower()]}"


def trusted_entry(entry: str) -> str:
    """A `trusted_hosts` setting entry as the check compares it: `host` (every port), `host:port`, or
    a URL (its site). Lower case, IPv6 in brackets."""
    text = str(entry).strip().lower()
    if "://" in text:
        return site_key(text) or text
    if text.startswith("["):  # [::1] or [::1]:8000
        return text
    host, sep, port = text.rpartition(":")
    if sep and port.isdigit() and ":" not in host:
        return f"{_host_text(host)}:{int(port)}"
    return _host_text(text)


def allowed_sites(*urls: str | None, trusted_hosts: Iterable[str] = ()) -> frozenset[str]:
    """The sites a fetch may reach on private addresses: those of `urls` (what the user typed, the
    registered source) and the `trusted_hosts` setting."""
    out = {trusted_entry(t) for t in trusted_hosts if str(t).strip()}
    out |= {k for k in (site_key(u) for u in urls if u) if k}
    return frozenset(out)


def site_allowed(host: str, port: int, allowed) -> bool:
    """Is host:port one of the allowed sites (or host trusted on every port)?"""
    host = _host_text(host.strip("[]"))
    return host in allowed or f"{host}:{port}" in allowed


def blocked_ip(ip: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """An address that is not on the public internet (loopback, private, link-local, shared, reserved,
    multicast, unspecified; an IPv4-mapped IPv6 address counts as its IPv4 address)."""
    if isinstance(ip, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        a = ip
    else:
        a = ipaddress.ip_address(str(ip).split("%")[0])  # an IPv6 zone (fe80::1%eth0) is not part of it
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped is not None:
        a = a.ipv4_mapped
    return (
        not a.is_global
        or a.is_loopback
        or a.is_private
        or a.is_link_local
        or a.is_reserved
        or a.is_multicast
        or a.is_unspecified
    )


def resolve(host: str, port: int | None = None) -> list[tuple]:
    """getaddrinfo for a TCP connection (uncached): the (family, type, proto, canonname, sockaddr) rows."""
    return socket.getaddrinfo(host.strip("[]"), port, 0, socket.SOCK_STREAM)


def _loopback_name(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host == n or host.endswith("." + n) for n in LOOPBACK_NAMES)


def resolves_to_blocked(host: str) -> bool:
    """Does `host` (an address or a name) stand for a non-public address? Unresolvable names are not
    (the fetch fails on its own)."""
    return _resolves_to_blocked(host.lower().strip("[]"), int(time.monotonic() // DNS_CACHE_S))


@lru_cache(maxsize=4096)
def _resolves_to_blocked(host: str, _epoch: int) -> bool:
    try:
        return blocked_ip(host)
    except ValueError:
        pass
    if _loopback_name(host):
        return True
    try:
        infos = resolve(host)
    except (OSError, UnicodeError):
        return False
    return any(blocked_ip(i[4][0]) for i in infos)


def unsafe_reason(url: str, allowed) -> str | None:
    """Why a URL must not be fetched, or None when it may be. `allowed`: see `allowed_sites`."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        return f"scheme {parts.scheme or '(none)'}"
    host = (parts.hostname or "").lower()
    if not host:
        return "no host"
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        return "bad port"
    if site_allowed(host, port, allowed):
        return None
    if resolves_to_blocked(host):
        return PRIVATE
    return None
