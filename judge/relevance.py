"""Topic relevance: an explainable score from a multilingual topic profile (TOML).

A profile names two sides (e.g. Russia and Japan) and three kinds of evidence that a text is about the
relations between them: the territorial dispute (naming it is enough), bilateral compounds
("Russo-Japanese", 日露), and sentences that bring both sides together with relations vocabulary
(talks, treaty, sanctions, ...). Each kind adds points, capped so one repeated word cannot carry a
post; the score is 1 - exp(-points / SCORE_SCALE), in [0, 1). Every point is listed in `reasons`,
which `rjwatch show` prints.
"""

from __future__ import annotations

import math
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

DEFAULT_PROFILE = "russia_japan.toml"

# Points per kind of evidence, and their caps.
#: Each distinct dispute term (Kuril, 北方領土, Шикотан ...) is strong evidence on its own.
POINTS_DISPUTE_TERM = 1.0
CAP_DISPUTE = 3.0
#: A bilateral compound names the relationship itself.
POINTS_BILATERAL_TERM = 1.5
CAP_BILATERAL = 3.0
#: A sentence with both sides and a relations word: the core signal of coverage of the relations.
POINTS_RELATIONS_SENTENCE = 1.0
CAP_RELATIONS_SENTENCES = 4.0
#: A sentence with both sides but no relations word ("Russia beat Japan 3-1") counts for little.
POINTS_BOTH_SIDES_SENTENCE = 0.25
CAP_BOTH_SIDES = 1.0
#: A title naming both sides with relations vocabulary, the dispute or a bilateral compound.
POINTS_TITLE = 1.5
#: When one side never appears (a Japan–US meeting, a Russia–China summit) the points shrink to a
#: fifth: such posts can be near the topic but are not about the relations.
ONE_SIDED_FACTOR = 0.2
#: Points at which the score reaches 1 - 1/e = 0.63.
SCORE_SCALE = 3.0
#: A post is relevant from this score on: about 2.1 points, e.g. one sentence with both sides in
#: a relations context plus one dispute term, or two such sentences and a fitting title. Checked
#: against tests/fixtures/classify (volleyball, a Japan–US meeting, travel diaries stay below).
RELEVANT_MIN_SCORE = 0.5

_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]")


class ProfileError(ValueError):
    """A topic profile that cannot be used, explained in one line."""


@dataclass
class Concept:
    name: str
    label: str
    terms: list[str]


@dataclass
class Relevance:
    score: float
    relevant: bool
    points: float
    matched_terms: dict[str, dict[str, int]]  # concept -> term -> count
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"score": round(self.score, 4), "relevant": self.relevant, "points": round(self.points, 3),
                "matched_terms": self.matched_terms, "reasons": self.reasons}


_TOKEN_RE = re.compile(r"\w+(?:[-–+.'’]\w+)*")
_HYPHEN_RE = re.compile(r"[-–]")


class TermMatcher:
    """Finds every concept's terms in normalised text, sentence by sentence.

    Latin/Cyrillic terms are sequences of word parts, each exact or a prefix (`japan*`); they are
    indexed by their first part. The distinct words of a text are checked against that index first
    (set operations, a few dict lookups per distinct word), and only the positions of words that
    can start a term are examined, so a text that names nothing costs one tokenising pass.
    Japanese/Chinese terms are literals found with one regex alternation per concept.
    """

    def __init__(self, concept_terms: dict[str, list[str]]):
        Entry = tuple  # (concept, parts)
        self.exact_first: dict[str, list[Entry]] = {}
        self.prefix_first: dict[str, list[Entry]] = {}
        lengths: set[int] = set()
        self.cjk: dict[str, re.Pattern[str]] = {}
        for concept, terms in concept_terms.items():
            cjk: list[str] = []
            for term in terms:
                t = unicodedata.normalize("NFKC", term).casefold().strip()
                if not t:
                    continue
                if _CJK_RE.search(t):
                    cjk.append(t.rstrip("*"))
                    continue
                parts = tuple((p[:-1], True) if p.endswith("*") else (p, False) for p in t.split())
                head, is_prefix = parts[0]
                if is_prefix:
                    self.prefix_first.setdefault(head, []).append((concept, parts))
                    lengths.add(len(head))
                else:
                    self.exact_first.setdefault(head, []).append((concept, parts))
            if cjk:
                self.cjk[concept] = re.compile(
                    "|".join(re.escape(t) for t in sorted(set(cjk), key=len, reverse=True)))
        for table in (self.exact_first, self.prefix_first):
            for key in table:
                table[key].sort(key=lambda e: len(e[1]), reverse=True)  # longest phrase wins
        self.exact_keys = frozenset(self.exact_first)
        self.lengths = sorted(lengths, reverse=True)
        self.starts = frozenset(k[:2] for k in self.prefix_first)
        self.min_prefix = min(lengths) if lengths else 0

    def _heads(self, words: set[str]) -> set[str]:
        """The words that can start a term (exact first parts, or words with a prefix term's head)."""
        heads = words & self.exact_keys
        starts, prefix, lengths, shortest = self.starts, self.prefix_first, self.lengths, self.min_prefix
        for w in words:
            if w[:2] in starts and len(w) >= shortest:
                for length in lengths:
                    if length <= len(w) and w[:length] in prefix:
                        heads.add(w)
                        break
        return heads

    def _candidates(self, tok: str) -> list:
        cands = list(self.exact_first.get(tok, ()))
        if tok[:2] in self.starts:
            for length in self.lengths:
                if length <= len(tok):
                    cands += self.prefix_first.get(tok[:length], ())
        return cands

    def find(self, text: str) -> dict[str, list[tuple[int, str]]]:
        """{concept: [(sentence index, matched term), ...]} for a normalised text."""
        out: dict[str, list[tuple[int, str]]] = {}
        has_cjk = bool(self.cjk) and bool(_CJK_RE.search(text))
        words = set(_TOKEN_RE.findall(text))
        words.update(part for w in [w for w in words if "-" in w or "–" in w] for part in _HYPHEN_RE.split(w))
        heads = self._heads(words)
        if not heads and not has_cjk:
            return out  # the common case: a text that names nothing of the topic
        toks, sids = sentence_tokens(text)
        n = len(toks)
        plans = {h: self._candidates(h) for h in heads}
        # Heads whose terms are all one word match wherever they occur: one entry per concept.
        single = {h: list(dict.fromkeys(c for c, parts in cands)) for h, cands in plans.items()
                  if all(len(parts) == 1 for _, parts in cands)}
        for i in [i for i, tok in enumerate(toks) if tok in heads]:
            tok = toks[i]
            concepts = single.get(tok)
            if concepts is not None:
                for concept in concepts:
                    out.setdefault(concept, []).append((sids[i], tok))
                continue
            done: set[str] = set()
            for concept, parts in plans[tok]:
                if concept in done:
                    continue
                k = len(parts)
                if i + k > n:
                    continue
                if k == 1 or all((toks[i + j].startswith(p) if pre else toks[i + j] == p)
                                 for j, (p, pre) in enumerate(parts)):
                    term = tok if k == 1 else " ".join(toks[i:i + k])
                    out.setdefault(concept, []).append((sids[i], term))
                    done.add(concept)
        if has_cjk:
            sentences = split_sentences(text)
            for concept, regex in self.cjk.items():
                found = [(k, m.group(0)) for k, s in enumerate(sentences) for m in regex.finditer(s)]
                if found:
                    out.setdefault(concept, []).extend(found)
        return out


# Sentence boundaries: runs of end punctuation or line breaks, and "; ". A lone full stop between
# two word characters ("u.s.s.r", "3.5", "example.com") belongs to the word and ends nothing, nor
# does a semicolon with no space after it. (The split is on a plain character class, which the
# regex engine scans for quickly; the two exceptions are joined back afterwards.)
_BREAK_RE = re.compile(r"([.!?。！？\n;]+)")


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def split_sentences(norm_text: str) -> list[str]:
    parts = _BREAK_RE.split(norm_text)
    out = [parts[0]]
    for i in range(1, len(parts), 2):
        sep, nxt = parts[i], parts[i + 1]
        if (sep == "." and _is_word_char(out[-1][-1:]) and _is_word_char(nxt[:1])) or \
                (sep == ";" and not nxt[:1].isspace()):
            out[-1] += sep + nxt
        else:
            out.append(nxt)
    return out


def text_tokens(sentences: list[str]) -> tuple[list[str], list[int]]:
    """Tokens of a text's sentences and the sentence index of each. Hyphenated compounds also yield
    their parts (pro-russian -> pro-russian, pro, russian)."""
    toks: list[str] = []
    sids: list[int] = []
    for k, sentence in enumerate(sentences):
        words = _TOKEN_RE.findall(sentence)
        if not words:
            continue
        if "-" in sentence or "–" in sentence:
            expanded = []
            for w in words:
                expanded.append(w)
                if "-" in w or "–" in w:
                    expanded += _HYPHEN_RE.split(w)
            words = expanded
        toks += words
        sids += [k] * len(words)
    return toks, sids


# One pass over a whole text for its tokens and sentence numbers (the same numbering as
# `split_sentences`): a match is either a token or a run of break characters. A lone full stop
# between word characters is always inside a token (the token pattern joins "u.s.s.r", "3.5"), so
# a break run matched here is a real break, except a lone semicolon with no space after it, which
# is blanked out first.
_TOKEN_OR_BREAK_RE = re.compile(r"(\w+(?:[-–+.'’]\w+)*)|[.!?。！？\n;]+")
_LONE_SEMICOLON_RE = re.compile(r"(?<![.!?。！？\n;]);(?![.!?。！？\n;]|\s)")


def sentence_tokens(norm_text: str) -> tuple[list[str], list[int]]:
    """`text_tokens(split_sentences(norm_text))`, in one regex pass."""
    if ";" in norm_text:
        norm_text = _LONE_SEMICOLON_RE.sub(" ", norm_text)
    toks: list[str] = []
    sids: list[int] = []
    k = 0
    hyphens = "-" in norm_text or "–" in norm_text
    for tok in _TOKEN_OR_BREAK_RE.findall(norm_text):
        if not tok:
            k += 1
            continue
        toks.append(tok)
        sids.append(k)
        if hyphens and ("-" in tok or "–" in tok):
            parts = _HYPHEN_RE.split(tok)
            toks += parts
            sids += [k] * len(parts)
    return toks, sids


class TopicProfile:
    REQUIRED = ("side_a", "side_b", "dispute", "bilateral", "relations")

    def __init__(self, data: dict, source: str = "<profile>", raw: str | None = None):
        self.source = source
        self.raw = raw
        self.name = str(data.get("name") or "topic")
        self.description = str(data.get("description") or "")
        concepts = data.get("concepts")
        if not isinstance(concepts, dict):
            raise ProfileError(f"{source}: no [concepts.*] tables")
        self.concepts: dict[str, Concept] = {}
        for key in self.REQUIRED:
            spec = concepts.get(key)
            if not isinstance(spec, dict) or not isinstance(spec.get("terms"), list) or not spec["terms"]:
                raise ProfileError(f"{source}: [concepts.{key}] needs a non-empty `terms` list")
            terms = [str(t) for t in spec["terms"] if str(t).strip()]
            self.concepts[key] = Concept(key, str(spec.get("label") or key), terms)
        self.matcher = TermMatcher({k: c.terms for k, c in self.concepts.items()})

    @classmethod
    def load(cls, path: str | Path | None = None) -> "TopicProfile":
        if path is None:
            raw = resources.files("judge").joinpath("profiles", DEFAULT_PROFILE).read_text("utf-8")
            source = f"default profile {DEFAULT_PROFILE}"
        else:
            try:
                raw = Path(path).read_text("utf-8")
            except OSError as exc:
                raise ProfileError(f"cannot read topic profile {path}: {exc.strerror}") from None
            source = str(path)
        return cls.from_text(raw, source)

    @classmethod
    def from_text(cls, raw: str, source: str = "<profile>") -> "TopicProfile":
        try:
            data = tomllib.loads(raw)
        except tomllib.TOMLDecodeError as exc:
            raise ProfileError(f"{source}: not valid TOML ({exc})") from None
        return cls(data, source, raw)

    # ---------------------------------------------------------------------------------------
    def score(self, norm_text: str, norm_title: str = "") -> Relevance:
        """Score a normalised (NFKC, casefolded) text and title."""
        hits: dict[str, list[tuple[int, str]]] = {}
        matched: dict[str, dict[str, int]] = {}
        found_all = self.matcher.find(norm_text)
        for key in self.concepts:
            found = found_all.get(key, [])
            hits[key] = found
            if found:
                counts: dict[str, int] = {}
                for _, term in found:
                    counts[term] = counts.get(term, 0) + 1
                matched[key] = counts

        def sentences(key: str) -> set[int]:
            return {k for k, _ in hits[key]}

        reasons: list[str] = []
        points = 0.0
        dispute_terms = set(matched.get("dispute", {}))
        if dispute_terms:
            p = min(CAP_DISPUTE, POINTS_DISPUTE_TERM * len(dispute_terms))
            points += p
            reasons.append(f"+{p:g} territorial dispute: {', '.join(sorted(dispute_terms))}")
        bilateral_terms = set(matched.get("bilateral", {}))
        if bilateral_terms:
            p = min(CAP_BILATERAL, POINTS_BILATERAL_TERM * len(bilateral_terms))
            points += p
            reasons.append(f"+{p:g} bilateral compound: {', '.join(sorted(bilateral_terms))}")
        a, b, rel = sentences("side_a"), sentences("side_b"), sentences("relations")
        both = a & b
        with_rel = both & rel
        if with_rel:
            p = min(CAP_RELATIONS_SENTENCES, POINTS_RELATIONS_SENTENCE * len(with_rel))
            points += p
            reasons.append(f"+{p:g} {len(with_rel)} sentence(s) with both sides and relations vocabulary")
        plain = both - with_rel
        if plain:
            p = min(CAP_BOTH_SIDES, POINTS_BOTH_SIDES_SENTENCE * len(plain))
            points += p
            reasons.append(f"+{p:g} {len(plain)} sentence(s) naming both sides without relations vocabulary")
        if norm_title:
            found_title = self.matcher.find(norm_title)
            t = {k: bool(found_title.get(k)) for k in self.concepts}
            if t["dispute"] or t["bilateral"] or (t["side_a"] and t["side_b"] and t["relations"]):
                points += POINTS_TITLE
                reasons.append(f"+{POINTS_TITLE:g} title is about the relations")
            for key in ("side_a", "side_b"):
                if t[key] and not hits[key]:
                    hits[key] = [(-1, "title")]
        has_a = bool(hits["side_a"]) or bool(dispute_terms) or bool(bilateral_terms)
        has_b = bool(hits["side_b"]) or bool(dispute_terms) or bool(bilateral_terms)
        if points and not (has_a and has_b):
            missing = self.concepts["side_a" if not has_a else "side_b"].label
            points *= ONE_SIDED_FACTOR
            reasons.append(f"x{ONE_SIDED_FACTOR:g} {missing} never mentioned: one-sided")
        score = 1.0 - math.exp(-points / SCORE_SCALE)
        relevant = score >= RELEVANT_MIN_SCORE
        reasons.append(f"= score {score:.2f} ({'relevant' if relevant else 'below'} {RELEVANT_MIN_SCORE:g})")
        return Relevance(score, relevant, points, matched, reasons)
