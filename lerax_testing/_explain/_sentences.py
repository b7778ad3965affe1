"""Shortening text at sentence boundaries, never in the middle of a sentence.

Reports, JUnit messages and GitHub annotations all have room for a line or two;
a message cut mid-sentence (or ending on a colon, before what it announces) reads
as the whole story and misleads, so text is cut after whole sentences only.
Imports nothing, so that the output formats can use it without JAX.
"""

from __future__ import annotations

import re

# "e.g." and "i.e." end no sentence.
_SENTENCE_END = re.compile(r"(?<!e\.g)(?<!i\.e)[.;!?](?=\s|$)")

HARD_LIMIT = 1200
"""Characters of one sentence at most: beyond that (a pathological message, such
as a printed array) even a single sentence is cut, at a word, with `…`."""


def one_line(text: str) -> str:
    """`text` with every run of whitespace, newlines included, as one space."""
    return " ".join(text.split())


def shorten(text: str, limit: int) -> str:
    """`text` (made one line) cut after the last whole sentence that ends within
    `limit` characters; a first sentence longer than `limit` is kept whole (up to
    `HARD_LIMIT`). A trailing colon, which would announce text that was cut, is
    dropped."""
    text = one_line(text)
    if len(text) > limit:
        ends = [m.end() for m in _SENTENCE_END.finditer(text)]
        within = [end for end in ends if end <= limit]
        if within:
            text = text[: within[-1]]
        elif ends and ends[0] <= HARD_LIMIT:
            text = text[: ends[0]]
        elif len(text) > HARD_LIMIT:
            text = text[:HARD_LIMIT].rsplit(" ", 1)[0] + " …"
        text = text.rstrip(";").rstrip()
    return text[:-1].rstrip() if text.endswith(":") else text
