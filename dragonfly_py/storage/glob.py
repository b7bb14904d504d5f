"""Redis glob patterns (KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET): ``* ? [a-z] [^x] \\x``."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=1024)
def _compile(pattern: bytes, nocase: bool) -> re.Pattern[bytes]:
    out = bytearray()
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i : i + 1]
        if c == b"*":
            out += b".*"
        elif c == b"?":
            out += b"."
        elif c == b"\\" and i + 1 < n:
            i += 1
            out += re.escape(pattern[i : i + 1])
        elif c == b"[":
            i, cls = _char_class(pattern, i + 1)
            out += cls
            continue
        else:
            out += re.escape(c)
        i += 1
    return re.compile(bytes(out), re.DOTALL | (re.IGNORECASE if nocase else 0))


def _char_class(pattern: bytes, i: int) -> tuple[int, bytes]:
    """Translate ``[...]`` starting after the bracket; an unclosed class runs to the end."""
    n = len(pattern)
    negate = i < n and pattern[i : i + 1] == b"^"
    if negate:
        i += 1
    items: list[bytes] = []
    while i < n and pattern[i : i + 1] != b"]":
        if pattern[i : i + 1] == b"\\" and i + 1 < n:
            items.append(re.escape(pattern[i + 1 : i + 2]))
            i += 2
        elif i + 2 < n and pattern[i + 1 : i + 2] == b"-" and pattern[i + 2 : i + 3] != b"]":
            low, high = sorted((pattern[i], pattern[i + 2]))
            items.append(re.escape(bytes([low])) + b"-" + re.escape(bytes([high])))
            i += 3
        else:
            items.append(re.escape(pattern[i : i + 1]))
            i += 1
    body = b"".join(items)
    if not body:
        return i + 1, b"(?!)" if not negate else b"."
    return i + 1, b"[" + (b"^" if negate else b"") + body + b"]"


def glob_match(pattern: bytes, text: bytes, nocase: bool = False) -> bool:
    if pattern == b"*":
        return True
    return _compile(pattern, nocase).fullmatch(text) is not None
