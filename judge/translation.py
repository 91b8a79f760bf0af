"""Translated copies of a seed: language-neutral anchors compared paragraph by paragraph, in order.

Shingles cannot meet across languages, so a translation of a seed is found from what survives
translation: numbers (years, counts, "2+2") and named entities, mapped across scripts by a small
names file (judge/profiles/names.toml: Лавров, ラブロフ and Lawrow are all `lavrov`). Each
paragraph of the seed and of the post becomes a bag of anchors; a post paragraph translates a seed
paragraph when their bags nearly coincide; the seed's paragraphs must then be found in the same
order (a longest common subsequence over paragraphs). Independent coverage of the same event names
the same people, places and dates, but never in the seed's sequence of paragraphs, each with the
seed's own mix of names and numbers.

Freer translations keep the anchors in other forms, and each form is read as the same anchor: numbers
written out in words ("seis años", "шести лет", from names.toml's [numbers]), Japanese numerals and
era years (六年, 二〇一四年, 平成二十八年 = 2016), names in other transliterations (Schojgu, Кишида:
`spelling_variants`). Paragraphs merged or split by the translator are aligned as one span
(`MAX_MERGED`), each merged paragraph having to be found in it; a bag ignores the order of sentences
inside a paragraph, so reordered and dropped sentences cost only the anchors they carried.

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
from itertools import product

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
#: Most consecutive paragraphs a translator merges into one, or splits one into: a freer translation
#: joins two or three short paragraphs (the guarded building and the vans in front of it) or cuts a long
#: one in two; more than three would let one long paragraph of another article gather the anchors of
#: half the seed.
MAX_MERGED = 3
#: A whole translation: at least this share of the seed's anchors (in paragraphs that have enough of
#: them) are in post paragraphs matched in the seed's order ...
COPY_MIN_SHARE = 0.6
#: ... in at least this share of its paragraphs that have anchors: a whole translation keeps 8 of the
#: packaged seed's 10 (two are tweets or a dateline that translators drop or rewrite); a few paragraphs
#: quoted in another article keep 3 or 4, and may carry the seed's densest paragraph (half its anchors).
COPY_MIN_PARAGRAPH_SHARE = 0.6
#: A whole translation, whatever its paragraphs: at least this share of the seed's anchors found in the
#: post in the seed's order (a longest common subsequence). Whole translations in development keep 0.77
#: or more (Japanese drops the most names); independent coverage of the same talks, which names the
#: same people, places and years in its own order, reaches 0.43, and the 800 relevance cases 0.18.
COPY_MIN_SEQUENCE = 0.65
#: A translated excerpt: a passage of at least this many consecutive seed paragraphs, translated one
#: after the other. A same-event article can restate one of the seed's paragraphs (the history of the
#: 2+2 format names the same four ministers, years and presidents), and match a second one somewhere
#: else, but it does not carry two of them side by side ...
EXCERPT_MIN_RUN = 2
#: ... carrying at least this many anchors between them (two short paragraphs of names alone do not).
EXCERPT_MIN_ANCHORS = 10
#: A blogger's remark between two translated paragraphs (a paragraph of the post's own, with a name or
#: a date in it) does not break the passage; more than one such paragraph between them does.
RUN_GAP = 1
#: Passages quoted apart (the seed's quote here, its history of the talks further on, with the post's
#: own paragraphs between) make no run, but still carry at least this share of the seed's anchors in
#: order ... Independent coverage of the same talks restates the seed's most quoted paragraphs (Shoigu
#: on the division, the history of the 2+2 format) and reaches 0.39 in the development fixtures.
EXCERPT_MIN_SHARE = 0.5
#: ... in at least this many of its paragraphs (one long paragraph restated is not a partial translation).
EXCERPT_MIN_PARAGRAPHS = 3

_NUMBER_RE = re.compile(r"\d+")
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_MARKS_RE = re.compile(r"[\u0300-\u036f]")


def _fold(text: str) -> str:
    """Lower case, full-width digits as ASCII, Latin and Cyrillic accents dropped (japón = japon)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", _MARKS_RE.sub("", unicodedata.normalize("NFD", text)))


#: Names shorter than this get no spelling variants: "abe" or "inad" changed by one letter are other
#: words ("abe" and "ave"), while "shoigu" or "кисид" changed so are still only the name.
MIN_VARIANT_FORM = 5
#: At most this many spellings of one form: every sound in a long name spelt every way would make
#: hundreds, most of them spellings nobody uses.
MAX_VARIANTS = 64
#: Sounds spelt differently by the transliteration systems in use for Russian and Japanese names
#: (English, German Duden, French, Spanish; Hepburn and Kunrei for Japanese; Polivanov and the
#: Hepburn-like popular spelling in Russian), each with all its spellings. A name form in names.toml
#: stands for every combination: `shoigu` also matches Shoygu, Choigu and Schojgu.
_SPELLING_GROUPS = (
    ("shi", "si", "schi", "chi"),  # 岸田: Kishida (Hepburn), Kisida (Kunrei), Kischida (German)
    ("sch", "sh", "ch"),  # Шойгу: Shoigu, Schoigu, Choïgou
    ("kh", "ch", "j", "h"),  # Сахалин: Sakhalin, Sachalin, Sajalin
    ("oi", "oy", "oj"),  # Шойгу: Shoigu, Shoygu, Schojgu
    ("v", "w"),  # Лавров: Lavrov, Lawrow
    ("ye", "ie", "je"),  # Приморье: Primorye, Primorie, Primorje
    ("ши", "си"),  # 岸田: Кисида (Polivanov), Кишида (from Hepburn)
)
#: Each sound of a form read once, longest first ("shi" before "sh" before "h"), with its spellings.
_SPELLINGS = {sound: group for group in reversed(_SPELLING_GROUPS) for sound in group}
_SOUND_RE = re.compile("(" + "|".join(sorted(_SPELLINGS, key=len, reverse=True)) + ")")
#: Japanese numerals: digits (二〇一四 = 2014) or tens, hundreds and thousands (二十八 = 28).
_KANJI_DIGITS = {ch: n for n, ch in enumerate("〇一二三四五六七八九")}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
_KANJI_NUMERAL = "[〇一二三四五六七八九十百千]+"
#: Japanese eras: a year of an era is the Western year (era start - 1) + n; 元年 is its first year.
_ERAS = {"令和": 2018, "平成": 1988, "昭和": 1925}


@dataclass(frozen=True)
class _Names:
    pattern: re.Pattern
    entity: dict[str, str]  # folded form -> entity (a name, or '#n' for a number written in words)


@lru_cache(maxsize=1)
def _names() -> _Names:
    raw = tomllib.loads(resources.files("judge").joinpath("profiles", "names.toml").read_text("utf-8"))
    entity: dict[str, str] = {}
    stems, words, anywhere = set(), set(), set()
    listed = {_fold(form.rstrip("=")) for forms in raw["names"].values() for form in forms}
    for name, forms in raw["names"].items():
        for form in forms:
            whole = form.endswith("=")
            f = _fold(form.rstrip("="))
            entity[f] = name
            (anywhere if _CJK_RE.search(f) else words if whole else stems).add(f)
            for v in spelling_variants(f) - listed:
                entity.setdefault(v, name)
                (words if whole else stems).add(v)
    for number, forms in raw.get("numbers", {}).items():
        for form in forms:
            entity[f := _fold(form)] = "#" + number
            words.add(f)

    def alt(forms: set[str]) -> str:
        return _trie_pattern(forms)

    eras = "|".join(_ERAS)
    pattern = re.compile(
        rf"(?<!\w)({alt(words)})(?!\w)|(?<!\w)({alt(stems)})\w*|({alt(anywhere)})"
        rf"|({eras})({_KANJI_NUMERAL}|\d+|元)年|({_KANJI_NUMERAL}|\d+)(月)?",
    )
    return _Names(pattern, entity)


def spelling_variants(form: str) -> set[str]:
    """Other spellings of a name form under the transliteration systems in use (folded, without the form
    itself): Shoigu is Schoigu, Schojgu, Choigu or Shoygu, Kishida is Kisida, Кисида is Кишида, Lavrov is
    Lawrow. Forms shorter than MIN_VARIANT_FORM and Japanese or Chinese forms have none."""
    if len(form) < MIN_VARIANT_FORM or _CJK_RE.search(form):
        return set()
    parts = _SOUND_RE.split(form)  # the sounds are the odd parts
    options = [[part] if n % 2 == 0 else _SPELLINGS[part] for n, part in enumerate(parts)]
    out = set()
    for combo in product(*options):
        out.add("".join(combo))
        if len(out) > MAX_VARIANTS:
            break
    out.discard(form)
    return out


def _number(numeral: str) -> int:
    """Value of digits or of a Japanese numeral."""
    if numeral.isdigit() and numeral.isascii():
        return int(numeral)
    if not any(ch in _KANJI_UNITS for ch in numeral):
        return int("".join(str(_KANJI_DIGITS[ch]) for ch in numeral))
    total = digit = 0
    for ch in numeral:
        if ch in _KANJI_UNITS:
            total += (digit or 1) * _KANJI_UNITS[ch]
            digit = 0
        else:
            digit = digit * 10 + _KANJI_DIGITS[ch]
    return total + digit


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
        word, stem, cjk, era, year, number, month = m.groups()
        if era is not None:
            out.append(f"#{_ERAS[era] + (1 if year == '元' else _number(year))}")
        elif number is not None:
            value = _number(number)
            if month and 1 <= value <= 12:
                out.append(f"month_{value}")
            elif value != 1 or number.isascii():
                # A lone 一 is mostly a word, not a number (一致 "agreement", 一部 "a part").
                out.append(f"#{value}")
        elif (name := names.entity[word or stem or cjk]) not in NOT_ANCHORS:
            out.append(name)
    return out


def paragraph_anchors(text: str) -> list[tuple[str, ...]]:
    """Anchors of the text's paragraphs (lines) that carry enough of them, in order, each paragraph's in
    the order they are written."""
    out = []
    for line in (text or "").split("\n"):
        found = anchors(line)
        if len(found) >= MIN_PARAGRAPH_ANCHORS:
            out.append(tuple(found))
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
    sequence: float = 0.0  # share of the seed's anchors found in the post in the seed's order, paragraphs aside

    @property
    def status(self) -> str | None:
        if self.share >= COPY_MIN_SHARE and self.paragraphs >= COPY_MIN_PARAGRAPH_SHARE * self.seed_paragraphs:
            return "copy"
        if self.sequence >= COPY_MIN_SEQUENCE:
            return "copy"
        if self.run >= EXCERPT_MIN_RUN and self.anchors >= EXCERPT_MIN_ANCHORS:
            return "excerpt"
        if self.share >= EXCERPT_MIN_SHARE and self.paragraphs >= EXCERPT_MIN_PARAGRAPHS:
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
            "sequence": round(self.sequence, 4),
        }


def _merged(bags: list[tuple[str, ...]], end: int, k: int) -> tuple[str, ...]:
    """The bags of paragraphs end-k .. end-1 as one bag (paragraphs a translator merged into one)."""
    return bags[end - 1] if k == 1 else tuple(sorted(a for bag in bags[end - k : end] for a in bag))


def _same_paragraph(s: tuple[str, ...], p: tuple[str, ...]) -> int:
    """Anchors shared when two bags are one text in two languages, else 0."""
    shared = _shared(s, p)
    ok = shared >= MIN_PARAGRAPH_ANCHORS and shared >= SAME_PARAGRAPH_SHARE * max(len(s), len(p))
    return shared if ok else 0


def _each_part_found(parts: list[tuple[str, ...]], whole: tuple[str, ...]) -> bool:
    """Is every one of several merged (or split) paragraphs translated in the other side's paragraph?
    Without this, a paragraph of another article that restates one seed paragraph would also gather a
    neighbour it shares one name with, and look like a passage of two."""
    return all(_shared(part, whole) >= SAME_PARAGRAPH_SHARE * len(part) for part in parts)


def compare(seed: list[tuple[str, ...]], post: list[tuple[str, ...]]) -> TranslationMatch:
    """Align the seed's paragraphs with the post's, in order, keeping the best total of shared anchors.
    One post paragraph may translate up to MAX_MERGED consecutive seed paragraphs (merged), and one seed
    paragraph may be translated by up to MAX_MERGED consecutive post paragraphs (split)."""
    total = sum(len(p) for p in seed)
    if not seed or not post or not total:
        return TranslationMatch(0.0, 0, len(seed), 0)
    sequence = _common_subsequence([a for p in seed for a in p], [a for p in post for a in p]) / total
    seed, post = [tuple(sorted(p)) for p in seed], [tuple(sorted(p)) for p in post]
    n, m = len(seed), len(post)
    # best[i][j] = (anchors, paragraphs, groups) for seed[:i] against post[:j]; groups are the matched
    # (seed start, seed end, post start, post end) paragraph spans, kept to find passages translated
    # one after the other.
    empty: tuple[int, int, tuple] = (0, 0, ())
    best = [[empty] * (m + 1) for _ in range(n + 1)]
    spans = [(k, 1) for k in range(1, MAX_MERGED + 1)] + [(1, k) for k in range(2, MAX_MERGED + 1)]
    # The bag of every span of up to MAX_MERGED paragraphs ending at each paragraph, built once.
    seed_bags = {(i, k): _merged(seed, i, k) for i in range(1, n + 1) for k in range(1, min(i, MAX_MERGED) + 1)}
    post_bags = {(j, k): _merged(post, j, k) for j in range(1, m + 1) for k in range(1, min(j, MAX_MERGED) + 1)}
    for i in range(1, n + 1):
        row, prev = best[i], best[i - 1]
        for j in range(1, m + 1):
            up, left = prev[j], row[j - 1]
            cand = up if up[:2] >= left[:2] else left
            for k, lp in spans:
                if k > i or lp > j:
                    continue
                s_bag, p_bag = seed_bags[i, k], post_bags[j, lp]
                if min(len(s_bag), len(p_bag)) < SAME_PARAGRAPH_SHARE * max(len(s_bag), len(p_bag)):
                    continue  # too different in size to share enough, whatever they hold
                shared = _same_paragraph(s_bag, p_bag)
                if shared and k > 1:
                    shared *= _each_part_found(seed[i - k : i], p_bag)
                if shared and lp > 1:
                    shared *= _each_part_found(post[j - lp : j], s_bag)
                if shared:
                    d = best[i - k][j - lp]
                    step = (d[0] + shared, d[1] + k, (*d[2], (i - k + 1, i, j - lp + 1, j)))
                    cand = cand if cand[:2] >= step[:2] else step
            row[j] = cand
    got, paras, groups = best[n][m]
    return TranslationMatch(got / total, paras, n, got, _longest_run(groups), sequence)


def _common_subsequence(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence of two anchor sequences: anchors found in the same
    order, whatever paragraphs they are in (a translation printed as one block, or with its paragraphs
    merged beyond MAX_MERGED, keeps the seed's order of statements; dropped or added anchors and a
    sentence moved within its paragraph cost only their own anchors)."""
    # Bit-parallel (Allison-Dix, Hyyro): one big-integer step per anchor of `a` instead of a row.
    where: dict[str, int] = {}
    for j, y in enumerate(b):
        where[y] = where.get(y, 0) | 1 << j
    full = (1 << len(b)) - 1
    v = full
    for x in a:
        u = v & where.get(x, 0)
        v = ((v + u) | (v - u)) & full
    return len(b) - v.bit_count()


def _longest_run(groups: tuple[tuple[int, int, int, int], ...]) -> int:
    """Longest chain of matched spans where each span follows the last: the next seed paragraph, in the
    next post paragraph or after at most RUN_GAP of the post's own. A span counts once however many
    paragraphs a translator merged into it: a passage is two translated paragraphs one after the other,
    and one paragraph of another article matching three short seed paragraphs at once is not."""
    longest = run = 0
    last = None
    for s0, s1, p0, p1 in groups:
        follows = last and s0 == last[0] + 1 and p0 - last[1] - 1 <= RUN_GAP
        run = run + 1 if follows else 1
        longest, last = max(longest, run), (s1, p1)
    return longest


def could_translate(post_lang: str | None, seed_lang: str | None, relevant: bool, chars: int) -> bool:
    """Is the cross-language check worth running for this post against a seed in `seed_lang`?"""
    return relevant and chars >= MIN_CHARS and bool(post_lang) and bool(seed_lang) and post_lang != seed_lang
