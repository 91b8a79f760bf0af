"""Translated copies of a seed: language-neutral anchors compared paragraph by paragraph, in order.

Shingles cannot meet across languages, so a translation of a seed is found from what survives
translation: numbers (years, counts, "2+2") and named entities, mapped across scripts by a small
names file (judge/profiles/names.toml: Лавров, ラブロフ and Lawrow are all `lavrov`). Each
paragraph of the seed and of the post becomes a bag of anchors; a post paragraph translates a seed
paragraph when their bags nearly coincide; the seed's paragraphs must then be found in the same
order (a longest common subsequence over paragraphs). Independent coverage of the same event names
the same people, places and dates, but never in the seed's sequence of paragraphs, each with the
seed's own mix of names and numbers.

The check is costly next to the rest of a post's analysis, so it runs only for posts that could be
translations: relevant to the topic, in another language than the seed's, and long enough
(`could_translate`).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

#: Shortest post text (characters) that is checked: a translated excerpt carries at least two of the
#: seed's paragraphs (the shortest two with anchors are ~350 characters in English, fewer in Japanese).
MIN_CHARS = 250
#: The two sides of the topic are named in nearly every paragraph of every relevant post, in every
#: language: they tell one article from another no better than "the", so they are not anchors.
NOT_ANCHORS = frozenset({"russia", "japan"})
#: A paragraph with fewer anchors than this says too little to be recognised in another language
#: (a dateline, a tweet's byline).
MIN_PARAGRAPH_ANCHORS = 2
#: Share of the larger of two anchor bags that must be in both for the paragraphs to be one text in two
#: languages. Translators repeat or drop a name now and then (Japanese drops "Russia's" before
#: a minister, Russian adds "России"), which costs 0.1-0.3; two paragraphs of different articles on
#: the same talks, sharing the four ministers, stay under 0.45.
SAME_PARAGRAPH_SHARE = 0.55
#: A whole translation: at least this share of the seed's anchors (in paragraphs that have enough of
#: them) are in post paragraphs matched in the seed's order ...
COPY_MIN_SHARE = 0.6
#: ... in at least this share of its paragraphs that have anchors: a whole translation keeps 8 of the
#: packaged seed's 10 (two are tweets or a dateline that translators drop or rewrite); a few paragraphs
#: quoted in another article keep 3 or 4, and may carry the seed's densest paragraph (half its anchors).
COPY_MIN_PARAGRAPH_SHARE = 0.6
#: A translated excerpt: a passage of at least this many consecutive seed paragraphs, translated one
#: after the other. A same-event article can restate one of the seed's paragraphs (the history of the
#: 2+2 format names the same four ministers, years and presidents), and match a second one somewhere
#: else, but it does not carry two of them side by side ...
EXCERPT_MIN_RUN = 2
#: ... carrying at least this many anchors between them (two short paragraphs of names alone do not).
EXCERPT_MIN_ANCHORS = 10

_NUMBER_RE = re.compile(r"\d+")
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_MARKS_RE = re.compile(r"[\u0300-\u036f]")


def _fold(text: str) -> str:
    """Lower case, full-width digits as ASCII, Latin and Cyrillic accents dropped (japón = japon)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", _MARKS_RE.sub("", unicodedata.normalize("NFD", text)))


@dataclass(frozen=True)
class _Names:
    pattern: re.Pattern
    entity: dict[str, str]  # folded form -> entity


@lru_cache(maxsize=1)
def _names() -> _Names:
    raw = tomllib.loads(resources.files("judge").joinpath("profiles", "names.toml").read_text("utf-8"))
    entity: dict[str, str] = {}
    stems, words, anywhere = set(), set(), set()
    for name, forms in raw["names"].items():
        for form in forms:
            whole = form.endswith("=")
            f = _fold(form.rstrip("="))
            entity[f] = name
            (anywhere if _CJK_RE.search(f) else words if whole else stems).add(f)

    def alt(forms: set[str]) -> str:
        return _trie_pattern(forms)

    pattern = re.compile(
        rf"(?<!\w)({alt(words)})(?!\w)|(?<!\w)({alt(stems)})\w*|({alt(anywhere)})|(\d+)",
    )
    return _Names(pattern, entity)


def _trie_pattern(forms: set[str]) -> str:
    """One regex alternative for many literal forms, as a trie (re tries a long flat alternation form by
    form at every position; a trie rejects a position after one character). Longer forms win."""
    trie: dict = {}
    for f in forms:
        node = trie
        for ch in f:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return emit(trie)


def anchors(paragraph: str) -> list[str]:
    """The paragraph's language-neutral anchors in order: entities by name, numbers as '#n'."""
    names = _names()
    out = []
    for m in names.pattern.finditer(_fold(paragraph)):
        word, stem, cjk, number = m.groups()
        if number is not None:
            out.append("#" + number.lstrip("0") or "#0")
        elif (name := names.entity[word or stem or cjk]) not in NOT_ANCHORS:
            out.append(name)
    return out


def paragraph_anchors(text: str) -> list[tuple[str, ...]]:
    """Anchor bags of the text's paragraphs (lines) that carry enough of them, in order."""
    out = []
    for line in (text or "").split("\n"):
        found = anchors(line)
        if len(found) >= MIN_PARAGRAPH_ANCHORS:
            out.append(tuple(sorted(found)))
    return out


def _shared(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    """Size of the multiset intersection of two sorted bags."""
    i = j = n = 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            n, i, j = n + 1, i + 1, j + 1
        elif a[i] < b[j]:
            i += 1
        else:
            j += 1
    return n


@dataclass(frozen=True)
class TranslationMatch:
    share: float  # share of the seed's anchors found in post paragraphs matched in order
    paragraphs: int  # seed paragraphs matched
    seed_paragraphs: int  # seed paragraphs with enough anchors
    anchors: int  # anchors shared by the matched paragraphs
    run: int = 0  # longest passage of consecutive seed paragraphs translated one after the other

    @property
    def status(self) -> str | None:
        if self.share >= COPY_MIN_SHARE and self.paragraphs >= COPY_MIN_PARAGRAPH_SHARE * self.seed_paragraphs:
            return "copy"
        if self.run >= EXCERPT_MIN_RUN and self.anchors >= EXCERPT_MIN_ANCHORS:
            return "excerpt"
        return None

    def as_dict(self) -> dict:
        return {
            "kind": "translation",
            "share": round(self.share, 4),
            "paragraphs": self.paragraphs,
            "seed_paragraphs": self.seed_paragraphs,
            "anchors": self.anchors,
            "run": self.run,
        }


def compare(seed: list[tuple[str, ...]], post: list[tuple[str, ...]]) -> TranslationMatch:
    """Align the seed's paragraphs with the post's, in order, keeping the best total of shared anchors."""
    total = sum(len(p) for p in seed)
    if not seed or not post or not total:
        return TranslationMatch(0.0, 0, len(seed), 0)
    n, m = len(seed), len(post)
    # best[i][j] = (anchors, paragraphs, pairs) for seed[:i] against post[:j]; pairs are the matched
    # (seed, post) paragraph indexes, kept to find passages translated paragraph after paragraph.
    empty: tuple[int, int, tuple] = (0, 0, ())
    best = [[empty] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        s = seed[i - 1]
        row, prev = best[i], best[i - 1]
        for j in range(1, m + 1):
            p = post[j - 1]
            cand = max(prev[j], row[j - 1], key=lambda c: c[:2])
            shared = _shared(s, p)
            if shared >= MIN_PARAGRAPH_ANCHORS and shared >= SAME_PARAGRAPH_SHARE * max(len(s), len(p)):
                d = prev[j - 1]
                cand = max(cand, (d[0] + shared, d[1] + 1, (*d[2], (i, j))), key=lambda c: c[:2])
            row[j] = cand
    got, paras, pairs = best[n][m]
    return TranslationMatch(got / total, paras, n, got, _longest_run(pairs))


def _longest_run(pairs: tuple[tuple[int, int], ...]) -> int:
    """Longest chain of matched pairs where both the seed and the post paragraph follow the last."""
    longest = run = 0
    last = None
    for i, j in pairs:
        run = run + 1 if last and (i, j) == (last[0] + 1, last[1] + 1) else 1
        longest, last = max(longest, run), (i, j)
    return longest


def could_translate(post_lang: str | None, seed_lang: str | None, relevant: bool, chars: int) -> bool:
    """Is the cross-language check worth running for this post against a seed in `seed_lang`?"""
    return relevant and chars >= MIN_CHARS and bool(post_lang) and bool(seed_lang) and post_lang != seed_lang
