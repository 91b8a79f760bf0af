"""Everything about one post that needs no database: text, language, identity, fingerprints, relevance.

`analyze(item, seeds, profile)` is pure (no I/O), so the batch ingest can run it in worker processes
and `rjwatch classify` can run it as a dry run. The database half (is it known, what is it a duplicate
of) lives in storage.ingest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import numpy as np

from judge import fingerprint, identity, lang, text, translation
from judge.classify import SeedMatch, TranslationSeedMatch, seed_status
from judge.errors import RjwatchError
from judge.htmltext import has_media, media_text, text_and_links
from judge.relevance import Relevance, TopicProfile, normalize_lines

#: Largest body we analyse (characters of text after HTML is stripped). Blog posts are rarely over
#: 100 KB of text; a bigger body is cut here so one hostile page cannot stall a batch.
MAX_TEXT_CHARS = 1_000_000
#: Largest HTML body accepted, in characters, before it is refused as hostile.
MAX_HTML_CHARS = 10_000_000


#: What each flag on a verdict means, as `show`, `posts` and alerts word it.
FLAG_TEXT = {
    "summary_only": "judged on a feed summary only",
    "media_only": "media only (judged on its title and the alt texts and titles of its pictures and embeds)",
    "partial": "partial (the topic is a small share of the post: a round-up or a passing mention)",
    "history": "history (nothing about today)",
    "places_only": "places named without the other side or dispute framing",
    "enumeration": "both sides only in lists of countries",
    "uncovered_language": "the topic profile has no vocabulary for this language: the score says little",
}


class BadPost(ValueError, RjwatchError):
    """A post that cannot be stored, explained in one line."""


@dataclass
class Seed:
    id: int
    title: str
    mode: str
    shingles: set[int]
    lang: str | None = None
    # Anchor bags of its paragraphs, to recognise it in another language (judge.translation).
    anchors: list[tuple[str, ...]] = field(default_factory=list)


@dataclass
class Analysis:
    url: str
    canonical_url: str
    title: str | None
    author: str | None
    published: str | None
    updated: str | None
    lang: str | None
    text: str
    mode: str
    content_hash: str
    # How many shingles the text has (the set itself stays in the process that made it: carrying
    # ~500 ints back from an analysis worker cost more to unpickle than the rest of the result).
    shingle_count: int
    signature: np.ndarray | None
    band_keys: list[int]
    relevance: Relevance
    seed_matches: list[SeedMatch]
    links: list[str]
    blog_id: str | None
    post_id: str | None
    labels: list[str] = field(default_factory=list)
    summary_only: bool = False
    # A post made only of pictures or embeds, judged on its title and their alt texts and titles.
    media_only: bool = False
    # Why no seed was compared, when none was: "no seeds loaded", or seeds only of the other mode.
    seed_note: str = "no seeds loaded"
    # Does the topic profile carry vocabulary for the post's language? (False: the relevance score
    # says little, and the post is flagged rather than silently off-topic.)
    language_covered: bool = True
    # Seeds this post translates in part or whole (checked only for posts that could be translations).
    translation_matches: list[TranslationSeedMatch] = field(default_factory=list)

    @property
    def flags(self) -> list[str]:
        """What qualifies the verdict (keys of FLAG_TEXT)."""
        out = list(self.relevance.flags)
        if self.media_only:
            out.append("media_only")
        if self.summary_only:
            out.append("summary_only")
        if not self.language_covered:
            out.append("uncovered_language")
        return out

    @property
    def seed_similarity(self) -> dict[str, dict]:
        out = {str(m.seed_id): m.as_dict() for m in self.seed_matches}
        # Translations are only looked for when no seed is found in the post's own words; the words a
        # post in another language shares with the seed (names, numbers) then say less than its anchors.
        out.update({str(t.seed_id): t.as_dict() for t in self.translation_matches})
        return out


def prepare_seed(seed_id: int, title: str, body: str) -> Seed:
    clean = text.clean_text(body)
    norm = text.normalize(clean)
    mode, toks = text.tokens(norm)
    return Seed(
        seed_id,
        title,
        mode,
        fingerprint.shingles(mode, toks),
        lang=lang.detect(clean),
        anchors=translation.paragraph_anchors(clean),
    )


def analyze(item: dict, seeds: list[Seed], profile: TopicProfile) -> Analysis:
    url = item.get("url")
    if not url or not isinstance(url, str):
        raise BadPost("post has no URL")
    try:
        canonical = identity.canonical_url(url)
    except ValueError as exc:
        raise BadPost(str(exc)) from None
    html = item.get("html")
    body = item.get("text")
    links: list[str] = list(item.get("links") or [])
    media_only = False
    if html:
        if len(html) > MAX_HTML_CHARS:
            raise BadPost(f"post body is {len(html):,} characters of HTML (cap {MAX_HTML_CHARS:,})")
        body, found = text_and_links(html, url)
        if not links:
            links = found
        if (not body or not body.strip()) and has_media(html):
            # A post that is only a photo or a video: judged on its title and what its pictures and
            # embeds say of themselves, and flagged, rather than lost.
            media_only = True
            body = "\n".join(x for x in (text.clean_title(item.get("title")) or "", media_text(html)) if x)
    if not body or not body.strip():
        raise BadPost("post has no text")
    if "\x00" in body:
        raise BadPost("post text contains NUL bytes (binary data?)")
    body = body[:MAX_TEXT_CHARS]
    clean = text.clean_text(body)
    if not clean:
        raise BadPost("post has no text once Blogger chrome is removed")
    title = text.clean_title(item.get("title"))
    # Line breaks stay: the relevance scorer reads sentences and paragraphs from them (tokens,
    # shingles and the content hash do not see them).
    norm = normalize_lines(clean)
    mode, toks = text.tokens(norm)
    sh = fingerprint.shingles(mode, toks)
    if len(sh) >= fingerprint.MIN_SHINGLES_FOR_LSH:
        sig = fingerprint.signature(sh)
        keys = fingerprint.band_keys(sig)
    else:
        sig, keys = None, []
    rel = profile.score(norm, text.normalize(title or ""))
    matches = [SeedMatch(s.id, fingerprint.overlap(s.shingles, sh)) for s in seeds if s.mode == mode]
    blog_id, post_id = item.get("blog_id"), item.get("post_id")
    detected = lang.detect(clean, item.get("lang_hint"))
    translations = translated_seeds(seeds, matches, detected, rel.relevant, clean)
    return Analysis(
        url=url,
        canonical_url=canonical,
        title=title,
        author=text.clean_title(item.get("author")),
        published=item.get("published"),
        updated=item.get("updated"),
        lang=detected,
        text=clean,
        mode=mode,
        content_hash=text.content_hash(toks),
        shingle_count=len(sh),
        signature=sig,
        band_keys=keys,
        relevance=rel,
        seed_matches=matches,
        links=[u for u in links if _linkable(u)],
        blog_id=str(blog_id) if blog_id else None,
        post_id=str(post_id) if post_id else None,
        labels=[str(x) for x in (item.get("labels") or [])],
        summary_only=bool(item.get("summary_only")),
        media_only=media_only,
        seed_note=seed_note(seeds, mode),
        language_covered=profile.covers(detected),
        translation_matches=translations,
    )


def translated_seeds(
    seeds: list[Seed], matches: list[SeedMatch], post_lang: str | None, relevant: bool, clean: str
) -> list[TranslationSeedMatch]:
    """The seeds a post could translate, compared by anchors: only when no seed is already found in
    its own words and the post could be a translation (relevant, another language, long enough)."""
    if not seeds or seed_status(matches)[0] is not None:
        return []
    post_anchors = None
    out = []
    for s in seeds:
        if not s.anchors or not translation.could_translate(post_lang, s.lang, relevant, len(clean)):
            continue
        if post_anchors is None:
            post_anchors = translation.paragraph_anchors(clean)
        m = translation.compare(s.anchors, post_anchors)
        if m.paragraphs or m.status:  # a copy by the order of its anchors alone has no paragraph matched
            out.append(TranslationSeedMatch(s.id, m))
    return out


def seed_note(seeds: list[Seed], mode: str) -> str:
    """Why a post has no seed to compare with: none loaded, or none in its mode (texts in Chinese,
    Japanese or Korean are compared by characters, others by words; the two never meet)."""
    if not seeds:
        return "no seeds loaded"
    how = {"char": "characters", "word": "words"}
    others = sorted({s.mode for s in seeds if s.mode != mode})
    return (
        f"compared by {how.get(mode, mode)}: no seed in that mode ({len(seeds)} seed(s) compared by "
        f"{', '.join(how.get(m, m) for m in others)})"
    )


def _linkable(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)
