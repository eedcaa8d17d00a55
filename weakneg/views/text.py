"""Text a person typed (names, tags, notes, sweep ids, a user file's class and column names), made safe to put
into Streamlit's Markdown: it shows exactly as typed, never as a link, an image, HTML, a colour or a formula."""

from __future__ import annotations

import re
import string

_ESCAPED = {ord(c): "\\" + c for c in string.punctuation}  # CommonMark: any ASCII punctuation may be escaped
# GFM's autolinks are found in the text *after* escapes are resolved (Streamlit's Markdown links a bare
# http://..., www.... or a@b.c in any text node): an invisible WORD JOINER after `http:`, `www` or `@` breaks them
JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(?<=https:)|(?<=http:)|(?<=ftp:)|(?<=mailto:)|(?<=www)(?=\.)|(?<=@)")


def plain(value: object) -> str:
    """`value` as Markdown that renders as its literal text: every ASCII punctuation character is backslash-escaped
    (so `[a](b)`, `![p](u)`, `<b>`, `` ` ``, `$x$` and `:red[x]` stay text), a WORD JOINER (invisible) follows each
    `http:`, `www` and `@` so no bare address becomes a link, and each line break is kept (a Markdown hard break)
    instead of being folded into a space."""
    lines = str(value).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "  \n".join(_AUTOLINK.sub(JOINER, line).translate(_ESCAPED) for line in lines)


def code(value: object) -> str:
    """`value` as inline code (shown literally, as an id or a command is): a code span interprets nothing inside,
    so only a backtick or a line break could end it early; such a value falls back to `plain`."""
    text = str(value)
    return plain(text) if "`" in text or "\n" in text or "\r" in text or not text.strip() else f"`{text}`"
