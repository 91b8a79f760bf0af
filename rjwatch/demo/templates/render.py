"""One page of a blog as its template family prints it: the dispatch from a `Page` to the family's module.

It sits beside the family modules rather than in the package's `__init__`, which they all import
their shared helpers from: the package never imports its own modules back.
"""

from __future__ import annotations

from rjwatch.demo.templates import (
    CLASSIC_FAMILIES,
    FAMILIES,
    THEME_FAMILIES,
    Page,
    dynamicviews,
    layouts,
    themes,
    thirdparty,
)


def render_page(page: Page) -> str:
    """The complete HTML document for a page of a blog, in the blog's template family."""
    family = page.blog.template
    if family in CLASSIC_FAMILIES:
        return layouts.render(page)
    if family in THEME_FAMILIES:
        return themes.render(page)
    if family == "thirdparty":
        return thirdparty.render(page)
    if family == "dynamicviews":
        return dynamicviews.render(page)
    raise ValueError(f"unknown template family {family!r}; expected one of {', '.join(FAMILIES)}")
