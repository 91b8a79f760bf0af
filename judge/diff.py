"""What changed between two texts: paragraphs kept, removed and added against a seed, line diffs
between revisions of a post, and whether a page read again changed substantially.

Paragraphs are compared by their comparison tokens (`judge.text.tokens`), so case, spacing,
markup and mojibake noise never count as a change; a paragraph counts as kept when most of its
words survive, so a fixed typo or a dropped clause is not reported as "removed + added".
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import lru_cache

from judge.fingerprint import overlap, shingles
from judge.text import normalize, tokens

#: A post paragraph is "the same" as a seed paragraph when their token sets overlap at least this
#: much (Jaccard). 0.6 keeps lightly edited paragraphs (a changed date, a dropped sentence) as kept.
SAME_PARAGRAPH_JACCARD = 0.6
#: Seeds whose paragraphs are kept between calls (a topic has a handful of seeds).
SEED_CACHE = 16
#: Paragraphs shorter than this many tokens (datelines, "(02)", share buttons) are ignored.
MIN_PARAGRAPH_TOKENS = 4
#: Characters of an added paragraph quoted in a change summary.
QUOTE_CHARS = 60
#: Lines of context in a revision diff.
DIFF_CONTEXT = 1
#: A page read again whose text shares less than this much (Jaccard of word 3-shingles, as the
#: near-duplicate check measures) with the stored version has changed substantially. A fixed typo
#: or a changed date costs a few shingles (0.95+), a paragraph added to six about 0.85; a rewritten
#: or cut half is ~0.5. 0.7 is where bench/neardup_params.py puts an edited copy with 5% of its
#: words changed (0.75): lighter edits than that are not worth a revision and an alert.
SUBSTANTIAL_CHANGE_SIMILARITY = 0.7


@dataclass
class ParagraphChanges:
    kept: int = 0
    removed: int = 0
    added: int = 0
    added_quotes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One short line, e.g. "12 ¶ kept, 2 removed, 1 added: “Editor's note: …”"."""
        parts = [f"{self.kept} ¶ kept"]
        if self.removed:
            parts.append(f"{self.removed} removed")
        if self.added:
            quote = f": “{self.added_quotes[0]}”" if self.added_quotes else ""
            parts.append(f"{self.added} added{quote}")
        if not self.removed and not self.added:
            parts.append("no other change")
        return ", ".join(parts)


def _paragraphs(text: str) -> list[tuple[str, frozenset[str]]]:
    out = []
    for para in (text or "").split("\n"):
        _, toks = tokens(normalize(para))
        if len(toks) >= MIN_PARAGRAPH_TOKENS:
            out.append((" ".join(para.split()), frozenset(toks)))
    return out


@lru_cache(maxsize=SEED_CACHE)
def _seed_paragraphs(text: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """A seed's paragraphs, kept: a spread compares every copy with the same few seeds."""
    return tuple(_paragraphs(text))


def _same(a: frozenset[str], b: frozenset[str]) -> bool:
    union = len(a | b)
    return bool(union) and len(a & b) / union >= SAME_PARAGRAPH_JACCARD


def paragraph_changes(seed_text: str, post_text: str) -> ParagraphChanges:
    """Count the seed's paragraphs that a post keeps or drops, and the paragraphs it adds."""
    seed, post = _seed_paragraphs(seed_text), _paragraphs(post_text)
    matched_seed: set[int] = set()
    changes = ParagraphChanges()
    for text, toks in post:
        hit = next((i for i, (_, s) in enumerate(seed) if i not in matched_seed and _same(s, toks)), None)
        if hit is None:
            changes.added += 1
            if len(changes.added_quotes) < 3:
                changes.added_quotes.append(text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…")
        else:
            matched_seed.add(hit)
            changes.kept += 1
    changes.removed = len(seed) - len(matched_seed)
    return changes


def revision_diff(old: str, new: str, *, old_label: str = "before", new_label: str = "after") -> list[str]:
    """A unified diff, line by line (a line is a paragraph in stored post text)."""
    return list(
        difflib.unified_diff(
            (old or "").splitlines(),
            (new or "").splitlines(),
            fromfile=old_label,
            tofile=new_label,
            lineterm="",
            n=DIFF_CONTEXT,
        )
    )


def text_similarity(old: str, new: str) -> float:
    """How alike two versions of a text are: the Jaccard similarity of their shingle sets (1.0: the
    same words in the same order; spacing, case and markup never count)."""
    old_mode, old_toks = tokens(normalize(old or ""))
    new_mode, new_toks = tokens(normalize(new or ""), old_mode)
    a, b = shingles(old_mode, old_toks), shingles(old_mode, new_toks)
    if not a and not b:
        return 1.0
    return overlap(a, b).jaccard


def substantially_changed(old: str, new: str) -> tuple[bool, float]:
    """(changed substantially?, similarity) of a stored text and the text its page carries now."""
    similarity = text_similarity(old, new)
    return similarity < SUBSTANTIAL_CHANGE_SIMILARITY, similarity
