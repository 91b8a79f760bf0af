"""What a body is before any parser sees it: the one size cap and the one binary sniffer.

This module owns the checks that crawler.feeds (feeds, Blogger exports, `sniff_kind`) and
crawler.extract (HTML pages) both make on the bytes they are handed: how big a document a parser
accepts (`MAX_DOCUMENT_BYTES`), whether the bytes are UTF-16/32 (`wide_encoding`), and whether they
are binary data rather than text (`is_binary`), so a feed and a page are judged alike.
"""

from __future__ import annotations

import codecs
import re

#: Largest feed page or HTML page a parser accepts (bytes, or characters for `str` input). A
#: 500-entry full-content Blogger feed page (the largest page size Blogger has ever served) runs to
#: about 2.5-10 MB (the real quiltville feed averages ~5 KB per entry), a Blogger post page to a few
#: hundred KB (the largest in our corpus is 420 KB). feedparser keeps several copies of the text
#: alive and lxml builds a tree of the whole page, so anything far above that is a runaway or
#: hostile response, and parsing it would only cost time and memory. (Blogger exports are read
#: incrementally and have their own, larger cap: crawler.feeds.blogger_export.MAX_EXPORT_BYTES.)
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024

#: How much of the start of a body sniffing looks at. The root element of a feed comes after at most
#: an XML declaration, a stylesheet PI, a comment or two and a short DOCTYPE; Blogger exports name
#: themselves (`blog-N.archive`) in the first kilobyte; binary data shows in its first bytes.
SNIFF_BYTES = 8 * 1024

#: Share of control bytes (other than tab/CR/LF/FF) in the sniffed window above which bytes are
#: binary. Text in any single-byte or multi-byte charset has essentially none.
BINARY_CONTROL_SHARE = 0.02

#: Share of control characters and U+FFFD (undecodable bytes) in the start of already decoded text
#: above which it is binary. Higher than BINARY_CONTROL_SHARE because a page in a rare charset
#: decoded with a wrong guess shows a few replacement characters and is still worth reading;
#: compressed or image data decoded as text has well over a tenth.
MAX_UNDECODABLE_SHARE = 0.05

#: Leading bytes of compressed and media formats that are sometimes saved or served where a feed or
#: page was expected (a gzip body nobody decompressed, an image, a PDF).
BINARY_MAGIC = (
    b"\x1f\x8b",
    b"%PDF",
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"PK\x03\x04",
    b"BZh",
    b"\xfd7zXZ",
    b"\x28\xb5\x2f\xfd",
    b"OggS",
    b"ID3",
    b"RIFF",
    b"\x7fELF",
    b"Rar!",
)

_WIDE_MARKERS = (
    (codecs.BOM_UTF32_BE, "utf-32-be", 4),
    (codecs.BOM_UTF32_LE, "utf-32-le", 4),
    (codecs.BOM_UTF16_BE, "utf-16-be", 2),
    (codecs.BOM_UTF16_LE, "utf-16-le", 2),
    (b"\x00\x00\x00<", "utf-32-be", 0),
    (b"<\x00\x00\x00", "utf-32-le", 0),
    (b"\x00<\x00", "utf-16-be", 0),
    (b"<\x00", "utf-16-le", 0),
)

_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13))
# Control characters other than tab/newline/carriage-return/form-feed, and U+FFFD (undecodable bytes).
_NON_TEXT_RE = re.compile("[\x00-\x08\x0b\x0e-\x1f\ufffd]")


def wide_encoding(data: bytes) -> tuple[str | None, int]:
    """UTF-16/32 encoding named by a BOM or by the way `<` is laid out, and the BOM length."""
    for marker, enc, bom_len in _WIDE_MARKERS:
        if data.startswith(marker):
            return enc, bom_len
    return None, 0


def is_binary(data: bytes | str) -> bool:
    """True when `data` is binary (compressed, media, noise) rather than text in some charset.

    Bytes: a known magic number, a NUL byte or more than BINARY_CONTROL_SHARE control bytes in the
    first SNIFF_BYTES (UTF-16/32 text, full of NULs, is text). Decoded text: a NUL, or more than
    MAX_UNDECODABLE_SHARE control or replacement characters in the first SNIFF_BYTES characters.
    """
    if isinstance(data, str):
        sample = data[:SNIFF_BYTES]
        if "\x00" in sample:
            return True
        return bool(sample) and len(_NON_TEXT_RE.findall(sample)) > MAX_UNDECODABLE_SHARE * len(sample)
    if data.startswith(BINARY_MAGIC):
        return True
    enc, _ = wide_encoding(data)
    if enc:
        return False
    window = data[:SNIFF_BYTES]
    if b"\x00" in window:
        return True
    controls = len(window) - len(window.translate(None, _CONTROL_BYTES))
    return controls > BINARY_CONTROL_SHARE * len(window)
