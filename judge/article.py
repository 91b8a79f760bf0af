"""Reading a saved plain-text article (a seed, or text piped to `rjwatch classify -`).

Blogger reposts saved as text look like the seed: a localised date header ("lunes, 20 de marzo de
2017"), a title line (sometimes numbered, "(02) ..."), the title again, the body, and the comment
footer. `parse_text_article` returns the clean title, the date and the body without that chrome.
"""

from __future__ import annotations

import re

from judge.text import clean_text, clean_title, is_chrome_line, normalize

#: A date header is a short line; anything longer is the start of the article.
DATE_HEADER_MAX_CHARS = 60
#: Title lines longer than this are body text (the file then has no title line).
TITLE_MAX_CHARS = 300

_NUMBERED_TITLE_RE = re.compile(r"^\(\d{1,3}\)\s*|^\d{1,3}[.)]\s+")
_YEAR_RE = re.compile(r"(1[89]|20)\d\d")


def parse_date_header(line: str) -> str | None:
    """ISO date of a localised long date line (es, en, fr, de, ru, ja, ...), or None."""
    line = line.strip()
    if not line or len(line) > DATE_HEADER_MAX_CHARS or not _YEAR_RE.search(line):
        return None
    import dateparser  # slow to import; only needed here

    dt = dateparser.parse(line, settings={"PREFER_DAY_OF_MONTH": "first", "REQUIRE_PARTS": ["day", "month", "year"]})
    return dt.date().isoformat() if dt else None


def parse_text_article(raw: str) -> dict:
    """{'title', 'published', 'text'} of a plain-text article; title/published may be None."""
    lines = [ln.strip() for ln in (raw or "").replace("\r\n", "\n").split("\n")]
    idx = 0

    def next_nonempty(i: int) -> int:
        while i < len(lines) and not lines[i]:
            i += 1
        return i

    idx = next_nonempty(idx)
    published = None
    if idx < len(lines):
        published = parse_date_header(lines[idx])
        if published:
            idx = next_nonempty(idx + 1)
    title = None
    if idx < len(lines) and len(lines[idx]) <= TITLE_MAX_CHARS and not is_chrome_line(lines[idx]):
        title = clean_title(_NUMBERED_TITLE_RE.sub("", lines[idx]))
        idx = next_nonempty(idx + 1)
        # Blogger text saves often repeat the title as the body's first line.
        if title and idx < len(lines) and normalize(lines[idx]) == normalize(title):
            idx += 1
    body = clean_text("\n".join(lines[idx:]))
    return {"title": title, "published": published, "text": body}
