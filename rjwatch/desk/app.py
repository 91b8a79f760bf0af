"""The analyst's desk: the routes of the web application `rjwatch serve` starts (Starlette, Jinja2
templates rendered on the server, a small script for keyboard shortcuts, no build step).

Pages: Today, the seed's spread, the review queue, a post, search, sources and charts, and the Atom
feeds. Every page reads through a read-only connection opened for the request; every write is a
POST carrying the CSRF token (rjwatch.desk.security) and goes through a storage function in its own
short transaction (storage.marks.mark, storage.sources.add_source / set_source_state), so the desk is
safe beside a running daemon and nothing it writes bypasses storage. GET never writes.

Templates autoescape everything: titles, texts and URLs collected from the web are shown as text.
"""

from __future__ import annotations

import getpass
import os
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from starlette.applications import Starlette
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from judge.analyze import FLAG_TEXT
from judge.errors import RjwatchError
from rjwatch.desk import security
from rjwatch.desk.svg import STATUS_COLOURS, stacked_bars
from storage import desk as q
from storage.db import connect

HERE = Path(__file__).parent
#: How far back Today looks when no `since` is given: the day since yesterday's review.
DEFAULT_SINCE = timedelta(hours=24)
#: Results per page of search.
SEARCH_PAGE = 25
#: The names a desk on a loopback address answers to (DNS rebinding gets a 400).
LOOPBACK_NAMES = ["127.0.0.1", "localhost", "::1", "[::1]"]
#: Copies and excerpts per page of the spread's timeline (each is compared with the seed to render).
SPREAD_PAGE = 100
#: Deepest search page (a bound on the offset; nobody reads 250,000 results page by page).
MAX_PAGE = 10_000
#: The statuses a post can have, in the order the pages list them.
STATUSES = ("new", "copy", "excerpt", "duplicate", "off_topic")
#: The buttons of the review queue: (status, label, key).
REVIEW_BUTTONS = (
    ("new", "relevant", "r"),
    ("off_topic", "off-topic", "o"),
    ("copy", "copy", "c"),
    ("excerpt", "excerpt", "e"),
)


def _since(value: str | None) -> str:
    """`?since=`: an ISO date or time, or a span back from now (`36h`, `7d`)."""
    now = datetime.now(UTC)
    if not value:
        return (now - DEFAULT_SINCE).isoformat(timespec="seconds")
    v = value.strip()
    if v[:-1].isdigit() and v[-1:] in ("h", "d"):
        try:
            span = timedelta(hours=int(v[:-1])) if v[-1] == "h" else timedelta(days=int(v[:-1]))
            return (now - span).isoformat(timespec="seconds")
        except OverflowError:
            raise DeskError(f"since: {value!r} reaches before the year 1") from None
    try:
        parsed = datetime.fromisoformat(v)
    except ValueError:
        raise DeskError(f"since: {value!r} is not a date (2024-05-01), a time or a span (36h, 7d)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="seconds")


class DeskError(ValueError, RjwatchError):
    """A request the desk cannot serve, explained in one line."""


def _host(url: str | None) -> str:
    return (urlsplit(url or "").hostname or "") if url else ""


def _href(url: str | None) -> str:
    """A link to a collected address only when it is http(s): never a javascript: or data: URL."""
    return url if url and urlsplit(url).scheme.lower() in ("http", "https") else "#"


def create_app(
    db_path: str | os.PathLike,
    *,
    token: str | None = None,
    analyst: str | None = None,
    hosts: list[str] | None = LOOPBACK_NAMES,
) -> Starlette:
    """The desk for the database at `db_path`; `token` is required on every request when given.
    `hosts`: the names the desk answers to (a page of another site whose name was re-pointed at
    127.0.0.1 is refused); None answers to any (beyond loopback, where the token guards it)."""
    db_path = Path(db_path)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    env = templates.env
    env.filters["host"] = _host
    env.filters["href"] = _href
    env.filters["evidence"] = q.evidence_line
    env.globals["STATUS_COLOURS"] = STATUS_COLOURS
    env.globals["REVIEW_BUTTONS"] = REVIEW_BUTTONS
    env.globals["FLAG_TEXT"] = FLAG_TEXT
    who = analyst or _user()

    @contextmanager
    def reading():
        db = connect(db_path, create=False, readonly=True)
        try:
            yield db
        finally:
            db.conn.close()

    @contextmanager
    def writing():
        db = connect(db_path, create=False)
        try:
            yield db
        finally:
            db.conn.close()

    def render(request: Request, name: str, status_code: int = 200, **context) -> Response:
        context.setdefault("error", None)
        context["csrf"] = security.csrf_token(request)
        context["page"] = name.removesuffix(".html")
        context["notice"] = request.query_params.get("done")
        return templates.TemplateResponse(request, name, context, status_code=status_code)

    def problem(request: Request, exc: Exception, status_code: int = 400) -> Response:
        return render(request, "error.html", status_code=status_code, message=str(exc))

    # --- pages ---------------------------------------------------------------------------------
    def today(request: Request) -> Response:
        try:
            since = _since(request.query_params.get("since"))
        except DeskError as exc:
            return problem(request, exc)
        with reading() as db:
            data = q.today(db, since)
        return render(request, "today.html", since=since, statuses=STATUSES, **data)

    def spread(request: Request) -> Response:
        from storage.queries import seed_spread

        seed = request.query_params.get("seed")
        seed_id = int(seed) if seed and seed.isdigit() else None
        with reading() as db:
            seeds = q.seeds(db)
            if seed_id is None and seeds:
                seed_id = seeds[0]["id"]
            total = q.spread_count(db, seed_id)
            page = request.query_params.get("page") or ""
            page = min(max(int(page), 1), MAX_PAGE) if page.isdigit() else 1
            rows = seed_spread(db, seed_id, limit=SPREAD_PAGE, offset=(page - 1) * SPREAD_PAGE)
            links = q.links_between(db, [r["id"] for r in rows], [s["url"] for s in seeds if s["url"]])
        current = next((s for s in seeds if s["id"] == seed_id), None)
        linked: dict[int, list] = {}
        for link in links:
            linked.setdefault(link["src"], []).append(link)
        return render(
            request,
            "spread.html",
            seeds=seeds,
            seed=current,
            rows=rows,
            linked=linked,
            total=total,
            page_no=page,
            more=page * SPREAD_PAGE < total,
            page_size=SPREAD_PAGE,
        )

    def review(request: Request) -> Response:
        with reading() as db:
            data = q.review_queue(db)
            marks = q.recent_marks(db)
        return render(request, "review.html", marks=marks, **data)

    def post(request: Request) -> Response:
        from judge.diff import revision_diff
        from storage.queries import get_post, revision_texts

        post_id = request.path_params["post_id"]
        with reading() as db:
            p = get_post(db, post_id)
            if p is None:
                return render(request, "error.html", status_code=404, message=f"no post #{post_id}")
            versions = revision_texts(db, post_id)
            seed_diff: list[str] = []
            seed_id = (p.get("evidence") or {}).get("seed")
            if p["status"] in ("copy", "excerpt") and seed_id is not None:
                seed_text = q.seed_text(db, int(seed_id))
                if seed_text is not None:
                    seed_diff = revision_diff(seed_text, p.get("text") or "", old_label="seed", new_label="this post")
        diffs = [revision_diff(a, b, old_label=la, new_label=lb) for (la, a), (lb, b) in zip(versions, versions[1:])]
        return render(request, "post.html", p=p, ev=p.get("evidence") or {}, diffs=diffs, seed_diff=seed_diff)

    def search(request: Request) -> Response:
        from storage.saved import get as get_saved
        from storage.saved import list_all
        from storage.search import Filters
        from storage.search import search as run_search

        params = request.query_params
        query = (params.get("q") or "").strip()
        status = tuple(s for s in params.getlist("status") if s in STATUSES)
        lang = tuple(x.strip() for v in params.getlist("lang") for x in v.split(",") if x.strip())
        rank = params.get("order") == "ranked"
        page = min(max(int(params["page"]), 1), MAX_PAGE) if (params.get("page") or "").isdigit() else 1
        results, error = [], None
        saved_name = params.get("saved")
        if query or saved_name:
            try:
                filters = Filters(
                    status=status,
                    lang=lang,
                    since=_since(params["since"]) if params.get("since") else None,
                    until=_since(params["until"]) if params.get("until") else None,
                )
                if saved_name and not query:
                    with reading() as db:
                        query, filters = get_saved(db, saved_name)
                    status, lang = filters.status, filters.lang
                with reading() as db:
                    results = run_search(
                        db, query, filters, rank=rank, limit=SEARCH_PAGE + 1, offset=(page - 1) * SEARCH_PAGE
                    )
            except RjwatchError as exc:
                error = str(exc)
        with reading() as db:
            saved = list_all(db)
        more = len(results) > SEARCH_PAGE
        nxt = urlencode([*[(k, v) for k, v in params.multi_items() if k != "page"], ("page", page + 1)])
        return render(
            request,
            "search.html",
            query=query,
            results=results[:SEARCH_PAGE],
            error=error,
            statuses=STATUSES,
            chosen=status,
            lang=",".join(lang),
            rank=rank,
            page_no=page,
            more=more,
            next_query=nxt,
            saved=saved,
            since=params.get("since") or "",
            until=params.get("until") or "",
        )

    def sources(request: Request) -> Response:
        from storage.sources import list_candidates

        with reading() as db:
            rows = q.sources_with_health(db)
            candidates = list_candidates(db)
        return render(request, "sources.html", rows=rows, candidates=candidates)

    def charts(request: Request) -> Response:
        with reading() as db:
            first, last = q.date_range(db)
            if first is None:
                return render(request, "charts.html", charts=[], start="", end="", unit="")
            try:
                start = q.parse_day(request.query_params.get("from") or first)
                end = q.parse_day(request.query_params.get("to") or last)
            except ValueError:
                return problem(request, DeskError("from/to: give days as 2024-05-01"))
            if end < start:
                start, end = end, start
            unit = q.bin_unit(start, end)
            labels = q.bins(start, end, unit)
            by_status = q.coverage(db, start.isoformat(), end.isoformat(), unit, "status")
            by_lang = q.coverage(db, start.isoformat(), end.isoformat(), unit, "lang")
        drawn = [
            ("By status", stacked_bars(labels, by_status, colours=STATUS_COLOURS, title="Posts by status")),
            ("By language", stacked_bars(labels, by_lang, title="Posts by language")),
        ]
        return render(request, "charts.html", charts=drawn, start=start, end=end, unit=unit)

    # --- writes ------------------------------------------------------------------------------------
    async def _form(request: Request):
        form = await request.form()
        if not security.csrf_ok(request, form.get(security.CSRF_FIELD)):
            return None, PlainTextResponse("refused: the form's CSRF token is missing or wrong; reload the page", 403)
        return form, None

    def _back(form, done: str) -> RedirectResponse:
        target = security.local_path(form.get("next"))
        sep = "&" if "?" in target else "?"
        return RedirectResponse(f"{target}{sep}{urlencode({'done': done})}", status_code=303)

    async def _write(request: Request, form, write, done) -> Response:
        """Run a storage write off the event loop; back to the page saying `done(result)`, or the error."""
        from starlette.concurrency import run_in_threadpool

        try:
            result = await run_in_threadpool(write)
        except RjwatchError as exc:
            return problem(request, exc)
        return _back(form, done(result))

    async def mark(request: Request) -> Response:
        from storage.marks import mark as make_mark

        form, refused = await _form(request)
        if refused:
            return refused
        try:
            post_id = int(form.get("post_id") or "")
            dup = form.get("duplicate_of") or None
            dup_id = int(dup) if dup else None
        except ValueError:
            return problem(request, DeskError("post and duplicate-of must be post numbers"))
        status = form.get("status") or ""
        note = (form.get("note") or "").strip() or None

        def write():
            with writing() as db:
                return make_mark(db, post_id, status, by=who, note=note, duplicate_of=dup_id)

        return await _write(request, form, write, lambda m: f"post #{m.post_id}: {m.old} → {m.new}")

    async def source_state(request: Request) -> Response:
        from storage.sources import get_source, set_source_state

        form, refused = await _form(request)
        if refused:
            return refused
        action = form.get("action")
        state = {"approve": "enabled", "enable": "enabled", "disable": "disabled", "reject": "disabled"}.get(action)
        if state is None:
            return problem(request, DeskError(f"unknown action {action!r}"))
        source_id = request.path_params["source_id"]

        def write():
            with writing() as db:
                src = get_source(db, source_id)
                set_source_state(db, src["id"], state)
                return src

        return await _write(request, form, write, lambda src: f"source #{src['id']} {action}d")

    async def source_add(request: Request) -> Response:
        from rjwatch.desk.forms import add_source

        form, refused = await _form(request)
        if refused:
            return refused

        def write():
            with writing() as db:
                return add_source(db, form.get("url") or "", form.get("kind") or "", form.get("name") or None)

        return await _write(request, form, write, "; ".join)

    # --- feeds -------------------------------------------------------------------------------------
    def atom(kind: str):
        def endpoint(request: Request) -> Response:
            from rjwatch import atom as atom_mod

            base = str(request.base_url).rstrip("/")
            name = request.path_params.get("name")
            try:
                with reading() as db:
                    body = atom_mod.feed(db, kind, name=name, base_url=base)
            except RjwatchError as exc:
                return PlainTextResponse(str(exc), 404)
            return Response(body, media_type="application/atom+xml")

        return endpoint

    routes = [
        Route("/", today),
        Route("/spread", spread),
        Route("/review", review),
        Route("/post/{post_id:int}", post),
        Route("/search", search),
        Route("/sources", sources),
        Route("/charts", charts),
        Route("/mark", mark, methods=["POST"]),
        Route("/sources/add", source_add, methods=["POST"]),
        Route("/sources/{source_id:int}/state", source_state, methods=["POST"]),
        Route("/feeds/new.atom", atom("new")),
        Route("/feeds/copies.atom", atom("copies")),
        Route("/feeds/saved/{name}.atom", atom("saved")),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(security.Guard, token=token)
    if hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=hosts)
    return app


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return os.environ.get("USER") or "desk"
