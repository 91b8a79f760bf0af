"""Topic relevance: an explainable score from a multilingual topic profile (TOML).

A profile names two sides (e.g. Russia and Japan) and the kinds of evidence that a text is about the
relations between them:

- the dispute's own names (Northern Territories, 北方領土): enough on their own;
- places (each island counts once, whatever its language or inflection), which count only with the
  other side, dispute framing (sovereignty, peace treaty, return ...) or a bilateral compound
  somewhere in the post: a volcano on Iturup is not coverage of the relations;
- bilateral compounds ("Russo-Japanese", 日露);
- sentences where both sides and relations vocabulary (diplomacy, framing, energy, fisheries, trade)
  meet, within a window of neighbouring sentences of one paragraph.

What weakens the evidence: fixed names that contain a side's name (the Sea of Japan) are masked; a
sentence naming three or more countries (a G7 list) is an enumeration; history (the 1904-05 war)
counts little unless the post speaks of today; a long post whose evidence is a small share of it (a
round-up, a passing mention) is flagged `partial` and weighed down; a post where one side never
appears shrinks to a fifth. Each kind adds points, capped so one repeated word cannot carry a post;
the score is 1 - exp(-points / SCORE_SCALE), in [0, 1). Every point is listed in `reasons`, which
`rjwatch show` prints.

Why one module of this size: the score is one function whose steps weigh each other (each cap and
factor is a named constant above it); matching and sentence splitting are judge/terms.py's.
"""

from __future__ import annotations

import math
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from judge.errors import RjwatchError
from judge.learned import LearnedModel, rules_text
from judge.terms import Segments, TermMatcher, _PhraseScreen, _term_regex, normalize_lines, segment, text_words

__all__ = ["ProfileError", "Relevance", "TopicProfile", "normalize_lines", "segment", "text_words"]

DEFAULT_PROFILE = "russia_japan.toml"

# Points per kind of evidence, and their caps.
#: Each distinct name of the dispute itself (Northern Territories, 北方領土) is strong evidence.
POINTS_DISPUTE_TERM = 1.0
CAP_DISPUTE = 3.0
#: Each distinct place (an island, the chain) named with the other side or dispute framing around.
#: Less than a dispute name: "Japanese visitors on Kunashir" still needs a relations sentence.
POINTS_PLACE = 0.75
CAP_PLACES = 2.25
#: A bilateral compound names the relationship itself.
POINTS_BILATERAL_TERM = 1.5
CAP_BILATERAL = 3.0
#: A sentence with both sides and a relations word (in it or in a neighbouring sentence of the same
#: paragraph): the core signal of coverage of the relations.
POINTS_RELATIONS_SENTENCE = 1.0
CAP_RELATIONS_SENTENCES = 4.0
#: ... and half as much again when its window holds two or more distinct relations words ("expelled
#: a diplomat ... protested"): a passage that is plainly about the relations.
STRONG_PASSAGE_MIN_TERMS = 2
POINTS_STRONG_PASSAGE_EXTRA = 0.5
#: A post where at least this share of the sentences carry the topic, with at least one relations
#: passage, is about it as a whole: a short news item of two or three sentences says everything once.
FOCUS_MIN_SHARE = 0.5
POINTS_FOCUS = 1.0
#: A sentence with both sides but no relations word ("Russia beat Japan 3-1") counts for little.
POINTS_BOTH_SIDES_SENTENCE = 0.25
CAP_BOTH_SIDES = 1.0
#: A sentence naming this many countries or more (both sides included) is an enumeration (a G7
#: statement, a list of sanctioning states): its co-occurrence counts this share of the points. Three
#: is still a bilateral story as often as not ("after the U.S. sanctions, Japan froze Russian
#: assets"); a group of states (G7, NATO, the six-party talks) counts as two.
ENUMERATION_MIN_COUNTRIES = 4
GROUP_OF_STATES = "country:others"
ENUMERATION_FACTOR = 0.25
#: Sentences on either side of a sentence that still count as its context (within a paragraph):
#: "Japan protested. The Russian drills on Iturup ..." reads as one statement.
WINDOW = 1
#: A title naming both sides with relations vocabulary, the dispute, a bilateral compound, or a place
#: together with the other side or framing. A place name alone does not earn it.
POINTS_TITLE = 1.5
#: History of the 1904-05 war: a little evidence on its own ...
POINTS_HISTORY_TERM = 0.25
CAP_HISTORY = 0.5
#: ... and when the post does not speak of today where its evidence is (no year from 1992 on, no
#: "today"/"now" word in the title or the paragraphs of its evidence: a museum's exhibition "this year"
#: below a story of 1909 does not make the story current), the rest of its evidence is history too and
#: keeps this share.
HISTORY_FACTOR = 0.3
#: When one side never appears (a Japan–US meeting, a Russia–China summit) the points shrink to a
#: fifth: such posts can be near the topic but are not about the relations.
ONE_SIDED_FACTOR = 0.2
#: A post of at least this many sentences whose evidence sits in less than this share of them is a
#: round-up or a passing mention: flagged `partial`, and its points keep ROUNDUP_FACTOR. A round-up
#: whose one item is a real relations story still passes (users expect to find it, flagged); a war
#: report that names Japan's sanctions once does not.
ROUNDUP_MIN_SENTENCES = 12
ROUNDUP_MAX_SHARE = 0.2
ROUNDUP_FACTOR = 0.6
#: A post of at least this many sentences that names one of the sides in a single sentence only (and
#: never the dispute or a compound) is about something else with that side as background: a North
#: Korean launch "since Pyongyang deepened ties with Russia", Korea's used-car trade "after Japan's
#: export ban". Its points keep PASSING_SIDE_FACTOR.
PASSING_SIDE_MIN_SENTENCES = 5
PASSING_SIDE_FACTOR = 0.5
#: Another country named in more sentences than one of the sides (and in at least this many) makes
#: the post a story about that country (a Korea–Japan summit that mentions Russia): its points keep
#: THIRD_COUNTRY_FACTOR.
THIRD_COUNTRY_MIN_SENTENCES = 2
THIRD_COUNTRY_FACTOR = 0.5
#: Points at which the score reaches 1 - 1/e = 0.63.
SCORE_SCALE = 3.0
#: A post is relevant from this score on: about 2.1 points, e.g. one sentence with both sides in
#: a relations context plus one dispute term, or two such sentences and a fitting title. Checked
#: against tests/fixtures/classify and the development part of tests/fixtures/relevance.
RELEVANT_MIN_SCORE = 0.5
#: The same threshold on the points' scale (about 2.08 points): where the learned model's offset is 0.
RELEVANT_MIN_POINTS = -SCORE_SCALE * math.log(1.0 - RELEVANT_MIN_SCORE)

#: Signs that a post speaks of the present day (against pure history of the 1904-05 war).
_PRESENT_RE = re.compile(
    r"(?<!\d)(?:199[2-9]|20\d\d)(?!\d)|\b(?:today|now|currently|this (?:week|year|month)|hoy|actualmente|"
    r"aujourd'hui|actuellement|heute|derzeit|aktuell|сегодня|сейчас|в этом году|ныне)\b|"
    r"今日|現在|今年|本日|目前|现在|現在|今年|오늘|현재|올해"
)


class ProfileError(ValueError, RjwatchError):
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
    flags: list[str] = field(default_factory=list)  # partial, history, enumeration, places_only
    # Points the model learned from analyst marks added (judge.learned); 0 without a model.
    learned: float = 0.0

    def as_dict(self) -> dict:
        return {
            "score": round(self.score, 4),
            "relevant": self.relevant,
            "points": round(self.points, 3),
            "matched_terms": self.matched_terms,
            "reasons": self.reasons,
            "flags": self.flags,
            **({"learned": round(self.learned, 3)} if self.learned else {}),
        }


class TopicProfile:
    REQUIRED = ("side_a", "side_b", "dispute", "bilateral", "relations")
    #: Concepts a profile may add (profile format 2); absent ones simply never match.
    OPTIONAL = ("framing", "economy", "history")

    def __init__(self, data: dict, source: str = "<profile>", raw: str | None = None):
        self.source = source
        self.raw = raw
        # What the installation's analyst marks taught (judge.learned), attached by storage when a
        # model has been trained; None: the profile alone.
        self.learned: LearnedModel | None = None
        self.name = str(data.get("name") or "topic")
        self.description = str(data.get("description") or "")
        langs = data.get("languages") or []
        if not isinstance(langs, list):
            raise ProfileError(f"{source}: `languages` must be a list of language codes")
        self.languages = [str(x).lower() for x in langs]
        concepts = data.get("concepts")
        if not isinstance(concepts, dict):
            raise ProfileError(f"{source}: no [concepts.*] tables")
        self.concepts: dict[str, Concept] = {}
        for key in self.REQUIRED + self.OPTIONAL:
            spec = concepts.get(key)
            if spec is None and key in self.OPTIONAL:
                continue
            if not isinstance(spec, dict) or not isinstance(spec.get("terms"), list) or not spec["terms"]:
                raise ProfileError(f"{source}: [concepts.{key}] needs a non-empty `terms` list")
            terms = [str(t) for t in spec["terms"] if str(t).strip()]
            self.concepts[key] = Concept(key, str(spec.get("label") or key), terms)
        # Places and other countries: one concept per group, so that a group counts once.
        self.places: dict[str, str] = {}  # concept key -> label
        self.countries: list[str] = []
        matcher_terms = {k: c.terms for k, c in self.concepts.items() if k != "history"}
        for table, prefix in (("places", "place:"), ("countries", "country:")):
            groups = data.get(table) or {}
            if not isinstance(groups, dict):
                raise ProfileError(f"{source}: [{table}.*] must be tables with a `terms` list")
            for gkey, spec in groups.items():
                if not isinstance(spec, dict) or not isinstance(spec.get("terms"), list):
                    raise ProfileError(f"{source}: [{table}.{gkey}] needs a `terms` list")
                matcher_terms[prefix + gkey] = [str(t) for t in spec["terms"] if str(t).strip()]
                if prefix == "place:":
                    self.places[prefix + gkey] = str(spec.get("label") or gkey)
                else:
                    self.countries.append(prefix + gkey)
        try:
            self.matcher = TermMatcher(matcher_terms)
        except ValueError as exc:
            raise ProfileError(f"{source}: {exc}") from None
        # Fixed names are masked before matching; history phrases are counted, then masked too.
        exclude = (data.get("exclude") or {}).get("terms") or []
        self.exclude_re = self._masker([str(t) for t in exclude])
        # The cheap first look before the two masking regexes: every word of some phrase is in the text.
        self.mask_screen = _PhraseScreen(
            [str(t) for t in exclude] + (self.concepts["history"].terms if "history" in self.concepts else [])
        )
        self.history_re = self._masker(self.concepts["history"].terms if "history" in self.concepts else [])

    @staticmethod
    def _masker(terms: list[str]) -> re.Pattern[str] | None:
        norm = [t if t.startswith("re:") else unicodedata.normalize("NFKC", t).casefold().strip() for t in terms]
        norm = sorted({t for t in norm if t}, key=len, reverse=True)
        if not norm:
            return None
        try:
            return re.compile("|".join(_term_regex(t) for t in norm))
        except re.error as exc:
            raise ProfileError(f"a masked term is not a valid pattern ({exc})") from None

    @property
    def rules_text(self) -> str | None:
        """The profile's text plus the learned model's digest: what a verdict's rules hash names."""
        return rules_text(self.raw, self.learned.digest if self.learned is not None else None)

    def covers(self, lang: str | None) -> bool:
        """Does the profile carry vocabulary for this language? (True when it lists none, or when
        the language is unknown: nothing to say then.)"""
        return not self.languages or not lang or lang.split("-")[0].lower() in self.languages

    @classmethod
    def load(cls, path: str | Path | None = None) -> TopicProfile:
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
    def from_text(cls, raw: str, source: str = "<profile>") -> TopicProfile:
        try:
            data = tomllib.loads(raw)
        except tomllib.TOMLDecodeError as exc:
            raise ProfileError(f"{source}: not valid TOML ({exc})") from None
        return cls(data, source, raw)

    # ---------------------------------------------------------------------------------------
    def _mask(self, norm: str, words: set[str]) -> tuple[str, list[tuple[int, str]]]:
        """The text with fixed names and history phrases blanked (offsets kept), and the history
        phrases found (offset, phrase). The two regexes run only when a word of the text can start
        one of their phrases (or the text has CJK characters): most texts skip them."""
        history: list[tuple[int, str]] = []
        if not self.mask_screen.may_occur(norm, words):
            return norm, history
        if self.history_re is not None:
            history = [(m.start(), m.group(0)) for m in self.history_re.finditer(norm)]
            if history:
                norm = self.history_re.sub(lambda m: " " * len(m.group(0)), norm)
        if self.exclude_re is not None:
            norm = self.exclude_re.sub(lambda m: " " * len(m.group(0)), norm)
        return norm, history

    def _find(self, norm: str) -> tuple[dict[str, list[tuple[int, str]]], list[tuple[int, str]], Segments | None]:
        if not norm:
            return {}, [], None
        words = text_words(norm)
        heads = self.matcher.first_look(norm, words)
        if heads is None:
            return {}, [], None
        masked, history_at = self._mask(norm, words)
        seg = segment(masked)
        # Nothing masked: the segments' tokens are the words looked at first, and so are their heads.
        hits = self.matcher.find(masked, seg, checked=True, heads=heads if masked == norm else None)
        history = [(seg.sentence_at(off), phrase) for off, phrase in history_at]
        return hits, history, seg

    @staticmethod
    def _paragraphs_of(norm_text: str, seg: Segments | None, sentences: set[int]) -> str:
        """The text of the paragraphs holding these sentences (the whole text when there are none)."""
        if seg is None or not sentences:
            return norm_text
        wanted = {seg.paragraphs[k] for k in sentences}
        bounds = [seg.starts[k] for k in range(seg.count) if k == 0 or seg.paragraphs[k] != seg.paragraphs[k - 1]]
        firsts = [k for k in range(seg.count) if k == 0 or seg.paragraphs[k] != seg.paragraphs[k - 1]]
        parts = []
        for i, k in enumerate(firsts):
            if seg.paragraphs[k] in wanted:
                end = bounds[i + 1] if i + 1 < len(bounds) else len(norm_text)
                parts.append(norm_text[bounds[i] : end])
        return "\n".join(parts)

    def score(self, norm_text: str, norm_title: str = "") -> Relevance:
        """Score a normalised (NFKC, casefolded) text and title. Line breaks in the text are kept
        (see `normalize_lines`): they end sentences and paragraphs."""
        found_all, history, seg = self._find(norm_text)
        matched: dict[str, dict[str, int]] = {}
        for key, found in found_all.items():
            counts: dict[str, int] = {}
            for _, term in found:
                counts[term] = counts.get(term, 0) + 1
            matched[key] = counts
        if history:
            matched["history"] = {}
            for _, phrase in history:
                matched["history"][phrase] = matched["history"].get(phrase, 0) + 1

        def sentences(*keys: str) -> set[int]:
            return {k for key in keys for k, _ in found_all.get(key, ())}

        reasons: list[str] = []
        flags: list[str] = []
        points = 0.0
        side_a, side_b = sentences("side_a"), sentences("side_b")
        framing = sentences("framing")
        dispute_terms = set(matched.get("dispute", {}))
        bilateral_terms = set(matched.get("bilateral", {}))
        places = {key for key in self.places if found_all.get(key)}
        title_hits = self._find(norm_title)[0] if norm_title else {}
        title_has = {key: bool(v) for key, v in title_hits.items()}
        has_b_anywhere = bool(side_b) or title_has.get("side_b", False)
        # An island's name is about the relations only beside dispute framing, the dispute's names, a
        # bilateral compound, or the other side together with relations vocabulary ("Japan protested
        # the drills on Iturup"); "no tsunami threat to Japan" after an eruption is not that.
        relations_anywhere = bool(sentences("relations")) or title_has.get("relations", False)
        place_context = bool(places) and (
            bool(framing)
            or bool(dispute_terms)
            or bool(bilateral_terms)
            or title_has.get("framing", False)
            or (has_b_anywhere and relations_anywhere)
        )

        if dispute_terms:
            p = min(CAP_DISPUTE, POINTS_DISPUTE_TERM * len(dispute_terms))
            points += p
            reasons.append(f"+{p:g} territorial dispute: {', '.join(sorted(dispute_terms))}")
        if places:
            names = ", ".join(sorted(self.places[k] for k in places))
            if place_context:
                p = min(CAP_PLACES, POINTS_PLACE * len(places))
                points += p
                reasons.append(
                    f"+{p:g} territorial dispute, places named with the other side or dispute framing: {names}"
                )
            else:
                flags.append("places_only")
                reasons.append(f"+0 places named without {self.concepts['side_b'].label} or dispute framing: {names}")
        if bilateral_terms:
            p = min(CAP_BILATERAL, POINTS_BILATERAL_TERM * len(bilateral_terms))
            points += p
            reasons.append(f"+{p:g} bilateral compound: {', '.join(sorted(bilateral_terms))}")

        # Co-occurrence, sentence by sentence with a window of neighbours in the same paragraph.
        a_like = side_a | (sentences(*places) if place_context else set())
        rel = sentences("relations", "economy", "framing", "dispute")
        countries_in: dict[int, set[str]] = {}
        for key in self.countries:
            for k, _ in found_all.get(key, ()):
                countries_in.setdefault(k, set()).add(key)
                if key == GROUP_OF_STATES:
                    countries_in[k].add(key + "+")
        with_rel: list[int] = []
        plain: list[int] = []
        enumerations = 0
        if seg is not None and a_like and side_b:
            paras = seg.paragraphs

            def near(k: int, pool: set[int]) -> bool:
                return any(
                    j in pool and paras[j] == paras[k]
                    for j in range(max(0, k - WINDOW), min(seg.count, k + WINDOW + 1))
                )

            direct = sorted(a_like & side_b)
            for k in direct:
                n_countries = 2 + len(countries_in.get(k, ()))
                if n_countries >= ENUMERATION_MIN_COUNTRIES:
                    enumerations += 1
                elif near(k, rel):
                    with_rel.append(k)
                else:
                    plain.append(k)
            # Both sides split over neighbouring sentences ("Japan protested. The Russian drills ..."):
            # one passage per pair, and only with relations vocabulary around it.
            used = set(direct)
            for k in sorted((a_like | side_b) - used):
                if k in used:
                    continue
                other = side_b if k in a_like else a_like
                for j in range(k + 1, min(seg.count, k + WINDOW + 1)):
                    if j in other and j not in used and paras[j] == paras[k] and (near(k, rel) or near(j, rel)):
                        if (
                            len(countries_in.get(k, set()) | countries_in.get(j, set())) + 2
                            >= ENUMERATION_MIN_COUNTRIES
                        ):
                            enumerations += 1
                        else:
                            with_rel.append(k)
                        used.update((k, j))
                        break
        if with_rel:
            rel_terms: dict[int, set[str]] = {}
            for key in ("relations", "economy", "framing", "dispute"):
                for k, term in found_all.get(key, ()):
                    rel_terms.setdefault(k, set()).add(term)
            strong = 0
            for k in with_rel:
                window = set()
                for j in range(max(0, k - WINDOW), k + WINDOW + 1):
                    if seg.paragraphs[j : j + 1] == [seg.paragraphs[k]]:
                        window |= rel_terms.get(j, set())
                strong += len(window) >= STRONG_PASSAGE_MIN_TERMS
            p = min(
                CAP_RELATIONS_SENTENCES,
                POINTS_RELATIONS_SENTENCE * len(with_rel) + POINTS_STRONG_PASSAGE_EXTRA * strong,
            )
            points += p
            reasons.append(
                f"+{p:g} {len(with_rel)} passage(s) with both sides and relations vocabulary"
                + (f" ({strong} with several relations words)" if strong else "")
            )
        if plain:
            p = min(CAP_BOTH_SIDES, POINTS_BOTH_SIDES_SENTENCE * len(plain))
            points += p
            reasons.append(f"+{p:g} {len(plain)} passage(s) naming both sides without relations vocabulary")
        if enumerations:
            p = min(CAP_BOTH_SIDES, POINTS_BOTH_SIDES_SENTENCE * ENUMERATION_FACTOR * 4 * enumerations)
            points += p
            flags.append("enumeration")
            reasons.append(
                f"+{p:g} {enumerations} sentence(s) listing {ENUMERATION_MIN_COUNTRIES}+ countries "
                "(an enumeration, not a bilateral story)"
            )

        if norm_title:
            t = title_has
            t_places = any(t.get(k) for k in self.places)
            rel_t = t.get("relations") or t.get("economy") or t.get("framing")
            if (
                t.get("dispute")
                or t.get("bilateral")
                or (t.get("side_a") and t.get("side_b") and rel_t)
                or (t_places and place_context and (t.get("side_b") or t.get("framing")))
            ):
                points += POINTS_TITLE
                reasons.append(f"+{POINTS_TITLE:g} title is about the relations")

        if history:
            phrases = sorted({p for _, p in history})
            hp = min(CAP_HISTORY, POINTS_HISTORY_TERM * len(phrases))
            evidence = set(with_rel) | set(plain) | sentences("dispute", "bilateral")
            if not _PRESENT_RE.search(self._paragraphs_of(norm_text, seg, evidence)) and not _PRESENT_RE.search(
                norm_title
            ):
                flags.append("history")
                points *= HISTORY_FACTOR
                reasons.append(f"x{HISTORY_FACTOR:g} history ({', '.join(phrases)}) with nothing about today")
            points += hp
            reasons.append(f"+{hp:g} history: {', '.join(phrases)}")

        has_a = (
            bool(side_a)
            or title_has.get("side_a", False)
            or bool(dispute_terms)
            or bool(bilateral_terms)
            or place_context
        )
        has_b = has_b_anywhere or bool(dispute_terms) or bool(bilateral_terms)
        if points and not (has_a and has_b):
            missing = self.concepts["side_a" if not has_a else "side_b"].label
            points *= ONE_SIDED_FACTOR
            reasons.append(f"x{ONE_SIDED_FACTOR:g} {missing} never mentioned: one-sided")

        sentences_with_text = len(set(seg.sids)) if seg is not None else 0
        # The topic's own sentences: a side, a place, the dispute or a compound (relations words and
        # other countries alone are not the topic).
        topical = side_a | side_b | sentences("dispute", "bilateral", *places)
        if (
            seg is not None
            and points
            and sentences_with_text >= PASSING_SIDE_MIN_SENTENCES
            and not dispute_terms
            and not bilateral_terms
            and not place_context
        ):
            weaker = min((len(side_a), self.concepts["side_a"].label), (len(side_b), self.concepts["side_b"].label))
            lone = side_a if weaker[1] == self.concepts["side_a"].label else side_b
            k = next(iter(lone), None)
            strong_there = (
                k is not None
                and k in a_like
                and k in side_b
                and len(
                    {
                        term
                        for key in ("relations", "economy", "framing")
                        for j, term in found_all.get(key, ())
                        if j == k
                    }
                )
                >= STRONG_PASSAGE_MIN_TERMS
            )
            if weaker[0] == 1 and not strong_there:
                flags.append("one_side_in_passing")
                points *= PASSING_SIDE_FACTOR
                reasons.append(
                    f"x{PASSING_SIDE_FACTOR:g} {weaker[1]} named in one sentence of {sentences_with_text}: "
                    "background to another story"
                )
        share = len(topical) / sentences_with_text if sentences_with_text else 0.0
        if with_rel and share >= FOCUS_MIN_SHARE:
            points += POINTS_FOCUS
            reasons.append(f"+{POINTS_FOCUS:g} the topic is in {len(topical)} of {sentences_with_text} sentences")
        if seg is not None and points and not dispute_terms and not bilateral_terms:
            per_country = {
                key: len({k for k, _ in found_all.get(key, ())}) for key in self.countries if key != GROUP_OF_STATES
            }
            top = max(per_country.items(), key=lambda kv: kv[1], default=(None, 0))
            if top[1] >= THIRD_COUNTRY_MIN_SENTENCES and top[1] > min(len(side_a), len(side_b)):
                flags.append("third_country")
                points *= THIRD_COUNTRY_FACTOR
                reasons.append(
                    f"x{THIRD_COUNTRY_FACTOR:g} {top[0].split(':')[1]} is named in more sentences ({top[1]}) "
                    "than one of the sides: a story about another country"
                )
        if seg is not None and points and sentences_with_text >= ROUNDUP_MIN_SENTENCES:
            if share < ROUNDUP_MAX_SHARE:
                flags.append("partial")
                points *= ROUNDUP_FACTOR
                reasons.append(
                    f"x{ROUNDUP_FACTOR:g} the topic is in {len(topical)} of {sentences_with_text} sentences "
                    "(a round-up or a passing mention)"
                )

        learned = 0.0
        if self.learned is not None:
            c = self.learned.contribution(norm_text, norm_title, flags)
            learned = max(c.points, -points)  # the score never goes below 0
            if learned:
                points += learned
                terms = ", ".join(f"{name} {p:+.2f}" for name, p in c.terms)
                reasons.append(
                    f"{learned:+.2f} learned from {self.learned.marks} analyst marks" + (f": {terms}" if terms else "")
                )
        score = 1.0 - math.exp(-points / SCORE_SCALE)
        relevant = score >= RELEVANT_MIN_SCORE
        reasons.append(f"= score {score:.2f} ({'relevant' if relevant else 'below'} {RELEVANT_MIN_SCORE:g})")
        return Relevance(score, relevant, points, matched, reasons, flags, learned)
