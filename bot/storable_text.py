"""Text another system sent, made storable: what no database text column (and no UTF-8
encoder) takes is dropped or replaced, whether a webhook or a Slack payload carried it."""

from __future__ import annotations

import re

# JSON can carry a NUL character ("\u0000"), and a form body one as "%00"; PostgreSQL can
# store none in a text column (SQLite would, and echo it back into Slack).
NUL = "\x00"
# JSON can also carry half of a UTF-16 surrogate pair ("\ud83d" alone): no Unicode character,
# so no text column (and no UTF-8 encoder) takes it. A whole pair decodes to one character,
# so any surrogate left in a decoded string is an unpaired one.
SURROGATE = re.compile(r"[\ud800-\udfff]")
REPLACEMENT_CHARACTER = "\ufffd"


def cleaned_text(value: str) -> str:
    """Free text made storable: NULs dropped, unpaired surrogates replaced by U+FFFD (the
    replacement character)."""
    if NUL not in value and not SURROGATE.search(value):
        return value  # nearly always: no copy
    return SURROGATE.sub(REPLACEMENT_CHARACTER, value.replace(NUL, ""))
