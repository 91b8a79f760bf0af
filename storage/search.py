"""Full-text search over posts: checking a query, choosing the index, filters, order and snippets.

Two FTS5 indexes cover the posts (see migrations 001 and 005 in `storage.schema`):

* `posts_fts` (unicode61, remove_diacritics 2) for the spaced scripts. It folds case and accents, so
  `kuril`, `Kuril` and `KURIL` are one term, and a prefix query (`Курил*`) finds every inflected
  Russian form (`Курилы`, `Курильских`, ...). No stemmer: FTS5 ships none for Russian, and a prefix
  is explicit where a stemmer guesses.
* `posts_cjk` (trigram) for posts containing Japanese, Chinese or Korean characters, which have no
  spaces between words. A query with CJK characters goes there, so `北方領土` is found in the middle
  of a sentence. Trigrams need three characters: a CJK term of one or two characters (`日露`) is
  spelled out as the trigrams that start with it (the index's vocabulary lists them), or, for a
  very common single character, found by a substring scan, newest first.

Order. Newest first (the order posts were collected, i.e. rowid) is the default: FTS5 walks its
doclists by rowid, so a page of results costs the same for a term found in every post as for a
rare one. `rank=True` scores with bm25, title weighted above text, but only over the newest
`RANK_WINDOW` matches: bm25 costs about 1.25 µs per matching row, and a term found in all of a
million posts would otherwise take over a second to rank.

User input only ever reaches SQL as a bound parameter. The query text itself is checked here
first, so a malformed query gets an error that names the problem.

Why one module of this size: query checking, FTS5 expressions, the trigram spelling of short CJK
terms and ranking are one query language, tested as one.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field

import sqlite_utils

from judge.errors import RjwatchError

#: `--rank` scores only the newest this-many matches: at ~1.25 µs a row that is ~12 ms of bm25,
#: and for any term matching at most 1% of a million posts it is the exact ranking.
RANK_WINDOW = 10_000
#: bm25 column weights (title, text): a term in the title says more about a post than one in the body.
TITLE_WEIGHT, TEXT_WEIGHT = 5.0, 1.0
#: Tokens of context around the matches in a snippet (FTS5 snippet() allows at most 64).
SNIPPET_TOKENS = 16
#: Trigram tokens are three characters long and overlap, so a CJK snippet needs more of them.
SNIPPET_TOKENS_CJK = 48
#: A CJK term of one or two characters is searched as the OR of the trigrams that start with it, up
#: to this many (a two-character word starts tens to hundreds); beyond it, the substring scan.
MAX_SPELLED_TRIGRAMS = 400
#: Characters of context either side of a match in a substring-scan snippet.
SCAN_SNIPPET_CHARS = 40
#: Most terms a query may have (after repeated terms are dropped). FTS5's snippet() costs time
#: quadratic in the number of phrases: 3,000 copies of one word took 22 s on a single matching post.
#: 64 terms keep any query under a few milliseconds a row and are far more than a real search needs.
MAX_QUERY_TERMS = 64
#: Marks around matches inside a snippet; private-use characters, so no real text contains them.
HIT_START, HIT_END = "\ue000", "\ue001"

_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_TOKEN_RE = re.compile(r'"(?:[^"]|"")*"\*?|NEAR\(|[()]|,|[^\s()",]+')
_WORDLESS_RE = re.compile(r"^[^\w\u0080-\U0010ffff]+$")
_OPERATORS = {"AND", "OR", "NOT"}
_COLUMNS = {"title", "text"}
#: An FTS5 bareword: ASCII letters, digits, underscore, or any non-ASCII character.
_BAREWORD_RE = re.compile(r"^[A-Za-z0-9_\u0080-\U0010ffff]+$")


class QueryError(ValueError, RjwatchError):
    """A search query that FTS5 cannot run, with a message naming the problem."""


@dataclass
class Filters:
    status: tuple[str, ...] = ()
    lang: tuple[str, ...] = ()
    source_id: int | None = None
    since: str | None = None  # ISO 8601, compared with the published date (else first seen)
    until: str | None = None
    seed: int | None = None  # copies and excerpts of this seed
    min_relevance: float | None = None

    def sql(self) -> tuple[str, list]:
        where, params = [], []
        if self.status:
            where.append(f"p.status IN ({','.join('?' * len(self.status))})")
            params += list(self.status)
        if self.lang:
            where.append(f"p.lang IN ({','.join('?' * len(self.lang))})")
            params += list(self.lang)
        if self.source_id is not None:
            where.append("p.source_id = ?")
            params.append(self.source_id)
        if self.since:
            where.append("coalesce(p.published, p.first_seen) >= ?")
            params.append(self.since)
        if self.until:
            where.append("coalesce(p.published, p.first_seen) < ?")
            params.append(self.until)
        if self.seed is not None:
            where.append("p.status IN ('copy', 'excerpt') AND json_extract(p.evidence, '$.seed') = ?")
            params.append(self.seed)
        if self.min_relevance is not None:
            where.append("p.relevance >= ?")
            params.append(self.min_relevance)
        return (" AND ".join(where) or "1"), params

    def as_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items() if v not in (None, ())}

    @classmethod
    def from_dict(cls, data: dict) -> Filters:
        known = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class Plan:
    """How a query runs. Its top-level OR branches are grouped by where they can be answered: one
    FTS5 expression for `posts_fts`, one for `posts_cjk`, and the branches with a CJK term too short
    for trigrams (which `resolve` spells out, or scans). Most queries have exactly one part."""

    fts: str | None = None
    cjk: str | None = None
    scans: list[list[str]] = field(default_factory=list)


def plan(query: str) -> Plan:
    """Check a query and decide how to run it; raises QueryError naming what is wrong."""
    query = query.strip()
    if not query:
        raise QueryError("empty search query")
    if query.count('"') % 2:
        raise QueryError('unbalanced double quote in the search query (close the phrase with ")')
    tokens = [t for t in _TOKEN_RE.findall(query) if not _WORDLESS_RE.match(t) or t in "(),"]
    depth, near, prev = 0, 0, None
    branches: list[dict] = [{"out": [], "terms": [], "simple": True}]
    for tok in tokens:
        kind = _kind(tok)
        branch = branches[-1]
        if tok == ",":
            if not near:
                continue  # a stray comma outside NEAR(...) separates nothing
            branch["out"].append(tok)
            prev = "comma"
            continue
        if prev == "comma" and tok.isdigit():
            branch["out"].append(tok)  # the distance in NEAR(a b, 5)
            prev = "term"
            continue
        if kind in ("open", "near"):
            depth += 1
            near += kind == "near"
        elif kind == "close":
            depth -= 1
            if depth < 0:
                raise QueryError("unbalanced parenthesis in the search query: ')' without '('")
            if prev in ("op", "open"):
                raise QueryError("empty parentheses or an operator before ')' in the search query")
            near = max(0, near - 1)
        elif kind == "op":
            if prev in (None, "op", "open"):
                raise QueryError(f"operator {tok} needs a term before it")
        prev = "open" if kind == "near" else kind
        if kind == "op" and tok == "OR" and depth == 0:
            branches.append({"out": [], "terms": [], "simple": True})  # FTS5: AND binds tighter than OR
            continue
        if kind == "term":
            tok, text = _term(tok)
            branch["terms"].append(text)
            if tok.endswith("*") or ":" in tok or tok.startswith("^"):
                branch["simple"] = False
        elif tok != "AND":
            branch["simple"] = False
        branch["out"].append(tok)
    if depth > 0:
        raise QueryError("unbalanced parenthesis in the search query: '(' without ')'")
    if prev == "op":
        raise QueryError(f"operator {tokens[-1]} needs a term after it")
    if not any(b["terms"] for b in branches):
        raise QueryError("the search query has no words to look for")
    branches = _without_repeats(branches)
    n_terms = sum(len(b["terms"]) for b in branches)
    if n_terms > MAX_QUERY_TERMS:
        raise QueryError(
            f"the search query has {n_terms:,} terms; at most {MAX_QUERY_TERMS} are allowed (repeated words count once)"
        )
    fts, cjk, scans = [], [], []
    for b in branches:
        expression = " ".join(b["out"])
        short = [t for t in b["terms"] if _CJK_RE.search(t) and len(t) < 3]
        if short:
            if not b["simple"]:
                raise QueryError(
                    f"CJK terms shorter than three characters ({', '.join(short)}) can only be "
                    "combined with AND or OR; use a longer term with NOT, NEAR, prefixes or columns"
                )
            scans.append(b["terms"])
        elif any(_CJK_RE.search(t) for t in b["terms"]):
            cjk.append(expression)
        else:
            fts.append(expression)
    join = lambda exprs: " OR ".join(f"({e})" if len(exprs) > 1 else e for e in exprs) or None  # noqa: E731
    return Plan(fts=join(fts), cjk=join(cjk), scans=scans)


def _without_repeats(branches: list[dict]) -> list[dict]:
    """Drop what cannot change the result: a repeated term in a branch of plain terms joined by AND
    (FTS5 folds case, so `Kuril kuril` is one term) and a repeated top-level OR branch."""
    out, seen = [], set()
    for b in branches:
        if b["simple"]:
            kept, keys = [], set()
            for tok, text in zip((t for t in b["out"] if t != "AND"), b["terms"]):
                key = tok.casefold()
                if key not in keys:
                    keys.add(key)
                    kept.append((tok, text))
            b = {"out": [t for t, _ in kept], "terms": [x for _, x in kept], "simple": True}
        signature = tuple(sorted(t.casefold() for t in b["out"])) if b["simple"] else tuple(b["out"])
        if signature in seen:
            continue
        seen.add(signature)
        out.append(b)
    return out


def _kind(tok: str) -> str:
    if tok == "(":
        return "open"
    if tok == ")":
        return "close"
    if tok == "NEAR(":
        return "near"
    if tok in _OPERATORS:
        return "op"
    return "term"


def _term(tok: str) -> tuple[str, str]:
    """Return the FTS5 form of a term and its bare text. Words with punctuation become phrases, so
    `Russia-Japan` or `U.S.` search as the words they contain instead of failing to parse."""
    if tok.startswith('"'):
        return tok, tok.rstrip("*").strip('"').replace('""', '"')
    col = ""
    head, sep, rest = tok.partition(":")
    if sep and head in _COLUMNS:
        col, tok = head + ":", rest
    elif sep and _BAREWORD_RE.match(head) and rest:
        raise QueryError(f"unknown column {head!r} in the search query (columns: title, text)")
    caret = "^" if tok.startswith("^") else ""
    star = "*" if tok.endswith("*") else ""
    word = tok[len(caret) : len(tok) - len(star)]
    if not word:
        raise QueryError(f"{tok!r} is not a search term")
    if not _BAREWORD_RE.match(word):
        word = '"' + word.replace('"', '""') + '"'
    return col + caret + word + star, word.strip('"')


# -- running -------------------------------------------------------------------------------------
_SELECT = """p.id, p.title, p.url, p.canonical_url, p.published, p.first_seen, p.lang, p.status,
    p.relevance, coalesce(s.name, s.url) AS source"""


def resolve(db: sqlite_utils.Database, p: Plan) -> list[tuple[str, str | list[str]]]:
    """The parts of a plan as they will run on this database: a branch with CJK terms too short for
    trigrams becomes a trigram query when the index vocabulary can spell it out (see `_spell`), and
    stays a substring scan otherwise."""
    cjk: list[str] = [p.cjk] if p.cjk else []
    scans = []
    for terms in p.scans:
        expression = _spell(db, terms)
        if expression is None:
            scans.append(terms)
        elif expression:
            cjk.append(Spelled(expression, terms))
    out: list[tuple[str, str | list[str]]] = [("posts_fts", p.fts)] if p.fts else []
    if cjk:
        out.append(("posts_cjk", " OR ".join(f"({e})" for e in cjk) if len(cjk) > 1 else cjk[0]))
    return out + [("scan", terms) for terms in scans] or [("posts_cjk", '""')]


class Spelled(str):
    """A trigram query spelled out for short CJK terms; remembers the terms, so that snippets can be
    cut from the text directly (finding a post again by dozens of trigrams costs ~1 ms a row)."""

    def __new__(cls, expression: str, terms: list[str]):
        obj = super().__new__(cls, expression)
        obj.terms = terms
        return obj


def _spell(db: sqlite_utils.Database, terms: list[str]) -> str | None:
    """A trigram query for an AND of terms, some of them CJK terms of one or two characters.

    Every character of an indexed column starts a trigram (the index appends an end mark), so the
    posts containing a short term are exactly those containing one of the trigrams that start with
    it; the index vocabulary lists those trigrams in order, so they are one range read. Returns ""
    when a short term occurs nowhere, and None when a term starts too many trigrams to spell out
    (a common single character: the newest-first scan finds it fast anyway)."""
    clauses = []
    for term in terms:
        if not (_CJK_RE.search(term) and len(term) < 3):
            clauses.append('"' + term.replace('"', '""') + '"')
            continue
        grams = [
            r[0]
            for r in db.execute(
                "SELECT term FROM posts_cjk_vocab WHERE term >= ? AND term < ? LIMIT ?",
                [term.casefold(), term.casefold() + "\U0010ffff", MAX_SPELLED_TRIGRAMS + 1],
            )
        ]
        if len(grams) > MAX_SPELLED_TRIGRAMS:
            return None
        if not grams:
            return ""
        clauses.append("(" + " OR ".join('"' + g.replace('"', '""') + '"' for g in grams) + ")")
    return " AND ".join(clauses)


def search(
    db: sqlite_utils.Database,
    query: str,
    filters: Filters | None = None,
    *,
    rank: bool = False,
    limit: int = 20,
    offset: int = 0,
) -> list[dict]:
    """One page of results for a query, newest first or (rank=True) by bm25 over the newest matches."""
    parts = resolve(db, plan(query))
    filters = filters or Filters()
    if len(parts) == 1:
        return _part(db, *parts[0], filters, rank=rank, limit=limit, offset=offset)
    # Several parts: take each part's first offset+limit rows in the final order, then merge.
    rows: dict[int, dict] = {}
    for index, payload in parts:
        for r in _part(db, index, payload, filters, rank=rank, limit=offset + limit, offset=0):
            rows.setdefault(r["id"], r)
    key = (lambda r: (r.get("score") or 0.0, -r["id"])) if rank else (lambda r: -r["id"])
    return sorted(rows.values(), key=key)[offset : offset + limit]


def _part(
    db: sqlite_utils.Database, index: str, payload, filters: Filters, *, rank: bool, limit: int, offset: int
) -> list[dict]:
    if index == "scan":
        return list(_scan(db, payload, filters, limit=limit, offset=offset))
    where, params = filters.sql()
    tokens = SNIPPET_TOKENS_CJK if index == "posts_cjk" else SNIPPET_TOKENS
    snippet = f"snippet({index}, -1, '{HIT_START}', '{HIT_END}', '…', {tokens})"
    if rank:
        # Snippets are made afterwards for the page only: snippet() re-reads and re-tokenizes a
        # post's text, which for the whole window would cost far more than bm25 itself.
        # Without filters the window needs nothing from `posts`: every indexed rowid is a post.
        window_from = index if where == "1" else f"{index} JOIN posts p ON p.id = {index}.rowid"
        # The page is chosen from (id, score) pairs before anything is joined to it: joining the
        # whole window to posts first doubled the cost of a 10,000-match query.
        sql = f"""
        SELECT {_SELECT}, m.score FROM (
            SELECT id, score FROM (
                SELECT {index}.rowid AS id, bm25({index}, {TITLE_WEIGHT}, {TEXT_WEIGHT}) AS score
                FROM {window_from}
                WHERE {index} MATCH ? AND {where}
                ORDER BY {index}.rowid DESC LIMIT {RANK_WINDOW}
            ) ORDER BY score, id DESC LIMIT ? OFFSET ?
        ) m JOIN posts p ON p.id = m.id LEFT JOIN sources s ON s.id = p.source_id
        ORDER BY m.score, p.id DESC"""
        rows = _run(db, sql, [payload, *params, limit, offset])
        if rows:
            ids = [r["id"] for r in rows]
            if isinstance(payload, Spelled):
                snippets = _spelled_snippets(db, ids, payload.terms)
            else:
                snippets = dict(
                    _run_tuples(
                        db,
                        f"SELECT rowid, {snippet} FROM {index} WHERE {index} MATCH ? "
                        f"AND rowid IN ({','.join('?' * len(ids))})",
                        [payload, *ids],
                    )
                )
            rows = [
                {**{k: v for k, v in r.items() if k != "score"}, "snippet": snippets.get(r["id"]), "score": r["score"]}
                for r in rows
            ]
        return rows
    elif isinstance(payload, Spelled):
        # A spelled-out query has hundreds of phrases, and snippet() costs time quadratic in them:
        # the snippets are cut from the page's texts directly.
        sql = f"""
        SELECT {_SELECT}
        FROM {index} JOIN posts p ON p.id = {index}.rowid LEFT JOIN sources s ON s.id = p.source_id
        WHERE {index} MATCH ? AND {where}
        ORDER BY {index}.rowid DESC LIMIT ? OFFSET ?"""
        rows = _run(db, sql, [payload, *params, limit, offset])
        snippets = _spelled_snippets(db, [r["id"] for r in rows], payload.terms) if rows else {}
        return [{**r, "snippet": snippets.get(r["id"])} for r in rows]
    else:
        sql = f"""
        SELECT {_SELECT}, {snippet} AS snippet
        FROM {index} JOIN posts p ON p.id = {index}.rowid LEFT JOIN sources s ON s.id = p.source_id
        WHERE {index} MATCH ? AND {where}
        ORDER BY {index}.rowid DESC LIMIT ? OFFSET ?"""
    return _run(db, sql, [payload, *params, limit, offset])


def _spelled_snippets(db: sqlite_utils.Database, ids: list[int], terms: list[str]) -> dict[int, str]:
    return {
        i: _scan_snippet(t, terms)
        for i, t in _run_tuples(
            db,
            f"SELECT id, coalesce(title, '') || ' ' || text FROM posts WHERE id IN ({','.join('?' * len(ids))})",
            ids,
        )
    }


def from_where(
    db: sqlite_utils.Database, query: str | None, filters: Filters | None = None
) -> tuple[str, str, list, str]:
    """SQL pieces for streaming every match: (FROM, WHERE, params, ORDER BY column), oldest first.

    `posts p` is always in the FROM clause; with a one-index query, so is that index.
    """
    where, params = (filters or Filters()).sql()
    if not query:
        return "posts p", where, params, "p.id"
    parts = resolve(db, plan(query))
    if len(parts) == 1 and parts[0][0] != "scan":
        index, expression = parts[0]
        return (
            f"{index} JOIN posts p ON p.id = {index}.rowid",
            f"{index} MATCH ? AND {where}",
            [expression, *params],
            f"{index}.rowid",
        )
    ors, extra = [], []
    for index, payload in parts:
        if index == "scan":
            cond, sub_params = _scan_condition(payload)
            ors.append(cond)
            extra += sub_params
        else:
            ors.append(f"p.id IN (SELECT rowid FROM {index} WHERE {index} MATCH ?)")
            extra.append(payload)
    return "posts p", f"{where} AND ({' OR '.join(ors)})", params + extra, "p.id"


def matches(db: sqlite_utils.Database, query: str, post_id: int, filters: Filters | None = None) -> bool:
    """Does one post match a query and filters? (Alert rules ask this of each new post.)"""
    frm, where, params, _ = from_where(db, query, filters)
    try:
        return db.execute(f"SELECT 1 FROM {frm} WHERE {where} AND p.id = ?", [*params, post_id]).fetchone() is not None
    except sqlite3.OperationalError as exc:
        raise _query_error(exc) from None


def _run(db: sqlite_utils.Database, sql: str, params: list) -> list[dict]:
    try:
        cursor = db.execute(sql, params)
        cols = [d[0] for d in cursor.description]
        return [dict(zip(cols, row)) for row in cursor]
    except sqlite3.OperationalError as exc:
        raise _query_error(exc) from None


def _run_tuples(db: sqlite_utils.Database, sql: str, params: list) -> list[tuple]:
    try:
        return db.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        raise _query_error(exc) from None


def _scan_condition(substrings: list[str]) -> tuple[str, list]:
    conds, params = [], []
    for sub in substrings:
        conds.append("(instr(coalesce(p.title, ''), ?) > 0 OR instr(p.text, ?) > 0)")
        params += [sub, sub]
    return "(" + " AND ".join(conds) + ")", params


def _scan(
    db: sqlite_utils.Database, substrings: list[str], filters: Filters, *, limit: int, offset: int
) -> Iterator[dict]:
    """Substring scan for short CJK terms, newest first: every term must occur in the title or text."""
    where, params = filters.sql()
    cond, sub_params = _scan_condition(substrings)
    sql = (
        f"SELECT {_SELECT}, p.text FROM posts p LEFT JOIN sources s ON s.id = p.source_id "
        f"WHERE {where} AND {cond} ORDER BY p.id DESC LIMIT ? OFFSET ?"
    )
    cursor = db.execute(sql, [*params, *sub_params, limit, offset])
    cols = [d[0] for d in cursor.description]
    for row in cursor:
        rec = dict(zip(cols, row))
        text = rec.pop("text")
        rec["snippet"] = _scan_snippet((rec.get("title") or "") + " " + text, substrings)
        yield rec


def _scan_snippet(text: str, subs: list[str]) -> str:
    at = min((i for i in (text.find(s) for s in subs) if i >= 0), default=0)
    start, end = max(0, at - SCAN_SNIPPET_CHARS), at + SCAN_SNIPPET_CHARS
    piece = text[start:end]
    for s in subs:
        piece = piece.replace(s, f"{HIT_START}{s}{HIT_END}")
    return ("…" if start else "") + " ".join(piece.split()) + ("…" if end < len(text) else "")


def _query_error(exc: sqlite3.OperationalError) -> QueryError:
    msg = str(exc)
    if msg.startswith("fts5: syntax error"):
        return QueryError(
            f'malformed search query ({msg.removeprefix("fts5: ")}); quote words with punctuation, e.g. "Abe-Putin"'
        )
    if msg.startswith("no such column"):
        return QueryError(f"unknown column in the search query ({msg}); columns: title, text")
    if "unknown special query" in msg:
        return QueryError("a search query cannot start with '*'")
    return QueryError(f"search failed: {msg}")
