"""A fetched page as markdown (the only markdownify / BeautifulSoup user; imported lazily).

HTML: scripts, styles, forms, frames and other non-content elements are removed with their
text, links keep only http(s), mailto and in-page targets (a ``javascript:`` link keeps its
text), images their alt text, and the ``<title>`` (else the first heading) is the title.
Markdown and plain text pass through. Either way the text is untrusted: :func:`clean`
removes control characters, masks secrets and caps the length.
"""

from __future__ import annotations

import re
from typing import Any

from agentctl.core import secrets
from agentctl.core.text import CONTROL_CHARS
from agentctl.errors import UsageError

DROPPED = (
    "script", "style", "noscript", "template", "iframe", "frame", "frameset", "object",
    "embed", "svg", "canvas", "form", "input", "button", "select", "textarea", "link", "meta",
)  # fmt: skip
LINK_SCHEMES = ("http://", "https://", "mailto:", "#")
TRUNCATED = "\n\n[…truncated by agentctl: the page was longer than {limit:,} characters]\n"


def html_to_markdown(html: str, base_url: str = "") -> tuple[str, str | None]:
    """(markdown, title or None) of an HTML page."""
    from urllib.parse import urljoin

    try:
        from bs4 import BeautifulSoup
        from markdownify import MarkdownConverter
    except ImportError:
        raise UsageError(
            "converting HTML needs markdownify (and beautifulsoup4), which are not installed",
            hint="pip install markdownify (an agentctl dependency; reinstall agentctl)",
        ) from None

    soup = BeautifulSoup(html, "html.parser")
    title_tag = soup.find("title")
    title = title_tag.get_text(" ", strip=True) if title_tag is not None else None
    for tag in soup.find_all(DROPPED):
        tag.decompose()
    if soup.head is not None:
        soup.head.decompose()
    for tag in soup.find_all("a"):
        href = str(tag.get("href") or "").strip()
        if href and base_url and not href.startswith(("#", "mailto:")):
            href = urljoin(base_url, href)
        if href.lower().startswith(LINK_SCHEMES):
            tag["href"] = href
        else:
            tag.unwrap()  # the text stays, the link does not
    for tag in soup.find_all("img"):
        alt = str(tag.get("alt") or "").strip()
        tag.replace_with(f"[image: {alt}]" if alt else "")
    if not title:
        heading = soup.find(["h1", "h2"])
        title = heading.get_text(" ", strip=True) if heading is not None else None
    options: dict[str, Any] = {"heading_style": "ATX", "bullets": "-", "escape_misc": False}
    text = MarkdownConverter(**options).convert_soup(soup)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n", title or None


def markdown_title(text: str) -> str | None:
    """The first ATX heading of a markdown text, if any."""
    match = re.search(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.MULTILINE)
    return match.group(1).strip() if match else None


def clean(text: str, limit: int) -> str:
    """Untrusted text made safe to store and show: no control characters (escape sequences,
    bidi overrides), secrets masked, at most ``limit`` characters (cut at a line end)."""
    text = CONTROL_CHARS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = secrets.mask(text)
    if len(text) > limit:
        marker = TRUNCATED.format(limit=limit)
        cut = text[: limit - len(marker)]
        cut = cut[: cut.rfind("\n")] if "\n" in cut else cut
        text = cut + marker
    return text


def one_line(text: str, limit: int = 200) -> str:
    """A title: one line of clean text, at most ``limit`` characters."""
    text = " ".join(CONTROL_CHARS.sub("", secrets.mask(text)).split())
    text = re.sub("[\u2028\u2029\x85]", " ", text)
    return text[: limit - 1] + "…" if len(text) > limit else text
