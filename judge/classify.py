"""The verdict: one status per post (`copy`, `excerpt`, `new`, `duplicate`, `off_topic`) from its evidence.

Order of questions, first match wins:
1. Is nearly the whole of a seed in the post?            -> copy
2. Are substantial passages of a seed in the post?       -> excerpt
   ... or is it a translation of a seed (judge.translation), whole -> copy, in part -> excerpt
3. Is it the same article as an earlier collected post?  -> duplicate (linked by duplicate_of)
4. Is it about the topic (relevance profile)?            -> new
5. Otherwise                                             -> off_topic

Seeds are compared with exact shingle sets (judge.fingerprint.overlap); posts with each other through
MinHash/LSH (storage.lsh). The thresholds below were checked against tests/fixtures/classify.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from judge.fingerprint import Overlap
from judge.translation import TranslationMatch

STATUSES = ("copy", "excerpt", "new", "duplicate", "off_topic")

#: Share of the seed's 3-word shingles a post must contain to be a copy. A verbatim repost is at
#: 1.0; dropping a sentence costs about 0.05, a dozen edited words about 0.06, removing the two tweet
#: embeds about 0.07, so a repost with all of these at once still sits near 0.8. A truncated repost
#: of the first half stops near 0.5, which is an excerpt.
COPY_MIN_CONTAINMENT = 0.7
#: An excerpt carries "substantial passages": at least this many shared shingles (roughly one long
#: paragraph: 3-word shingles of a 60-word passage give ~58) ...
EXCERPT_MIN_SHARED = 45
#: ... and at least this share of the seed. A news article quoting one 30-word sentence of the seed
#: shares ~28 shingles and ~0.04 of it; quoting two paragraphs gives ~0.15.
EXCERPT_MIN_CONTAINMENT = 0.08
#: Estimated Jaccard of MinHash signatures from which two posts are the same article. A syndicated
#: wire story with a new headline and ~5% of words changed sits near 0.7 (3-word shingles); two
#: different articles on the same event quoting the same officials stay under 0.2.
DUPLICATE_MIN_JACCARD = 0.5


@dataclass
class SeedMatch:
    seed_id: int
    overlap: Overlap

    def as_dict(self) -> dict:
        o = self.overlap
        return {
            "containment": round(o.containment, 4),
            "jaccard": round(o.jaccard, 4),
            "shared": o.shared,
            "post_share": round(o.post_share, 4),
        }


@dataclass
class TranslationSeedMatch:
    """How much of a seed a post in another language translates (judge.translation.compare)."""

    seed_id: int
    match: TranslationMatch

    def as_dict(self) -> dict:
        return {"containment": round(self.match.share, 4), **self.match.as_dict()}


@dataclass
class Verdict:
    status: str
    seed_id: int | None = None  # the seed a copy/excerpt is of
    duplicate_of: int | None = None
    reasons: list[str] = field(default_factory=list)
    # How a copy or excerpt carries the seed: "text" (the seed's own words) or "translation".
    kind: str | None = None


def translation_status(
    translations: list[TranslationSeedMatch],
) -> tuple[str | None, TranslationSeedMatch | None, str]:
    """'copy' / 'excerpt' / None for the seed a post translates best, with a one-line reason."""
    rank = {"copy": 2, "excerpt": 1, None: 0}
    best = max(translations, key=lambda t: (rank[t.match.status], t.match.share), default=None)
    if best is None or best.match.status is None:
        return None, best, ""
    m = best.match
    return (
        best.match.status,
        best,
        (
            f"translates seed #{best.seed_id}: {m.paragraphs} of its {m.seed_paragraphs} paragraphs in order, "
            f"{m.share:.0%} of its names, numbers and dates ({m.sequence:.0%} in its order, paragraphs aside)"
        ),
    )


def best_seed(matches: list[SeedMatch]) -> SeedMatch | None:
    return max(matches, key=lambda m: (m.overlap.containment, m.overlap.shared), default=None)


def seed_status(
    matches: list[SeedMatch], no_match: str = "no seeds loaded"
) -> tuple[str | None, SeedMatch | None, str]:
    """'copy' / 'excerpt' / None for the best-matching seed, with a one-line reason. `no_match` says
    why there is nothing to compare with (judge.analyze.seed_note)."""
    best = best_seed(matches)
    if best is None:
        return None, None, no_match
    o = best.overlap
    if o.containment >= COPY_MIN_CONTAINMENT:
        return (
            "copy",
            best,
            (f"{o.containment:.0%} of seed #{best.seed_id} is in the post (copy from {COPY_MIN_CONTAINMENT:.0%})"),
        )
    if o.shared >= EXCERPT_MIN_SHARED and o.containment >= EXCERPT_MIN_CONTAINMENT:
        return (
            "excerpt",
            best,
            (
                f"{o.containment:.0%} of seed #{best.seed_id} ({o.shared} shingles) is in "
                f"the post (excerpt from {EXCERPT_MIN_CONTAINMENT:.0%} and "
                f"{EXCERPT_MIN_SHARED} shingles)"
            ),
        )
    return None, best, (f"closest seed #{best.seed_id}: {o.containment:.0%} contained, {o.shared} shingles shared")


def decide(
    matches: list[SeedMatch],
    relevant: bool,
    duplicate_of: int | None,
    duplicate_jaccard: float | None = None,
    no_match: str = "no seeds loaded",
    translations: list[TranslationSeedMatch] | None = None,
) -> Verdict:
    status, best, why = seed_status(matches, no_match)
    reasons = [why]
    if status:
        return Verdict(status, best.seed_id if best else None, None, reasons, kind="text")
    t_status, t_best, t_why = translation_status(translations or [])
    if t_status and t_best:
        return Verdict(t_status, t_best.seed_id, None, [*reasons, t_why], kind="translation")
    if duplicate_of is not None:
        reasons.append(
            f"same article as post #{duplicate_of} (estimated Jaccard "
            f"{duplicate_jaccard:.2f} >= {DUPLICATE_MIN_JACCARD})"
        )
        if relevant:
            return Verdict("duplicate", None, duplicate_of, reasons)
        reasons.append("off the topic, so it stays off_topic (still linked)")
        return Verdict("off_topic", None, duplicate_of, reasons)
    if relevant:
        reasons.append("relevant to the topic and not seen before")
        return Verdict("new", None, None, reasons)
    reasons.append("below the relevance threshold")
    return Verdict("off_topic", None, None, reasons)
