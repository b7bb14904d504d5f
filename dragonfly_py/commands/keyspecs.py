"""Redis 7.0's key specifications: where a command's keys are and how it uses them.

A spec says where the search begins (an index, or just after a keyword) and how keys are found
from there (a range, or a count argument followed by that many keys); its flags say how the
command uses them (RO/RW/OW/RM, access/update/insert/delete). COMMAND INFO shows them, COMMAND
GETKEYS[ANDFLAGS] and client-side tracking read keys through them, and COMMAND's legacy
(first, last, step) triple is derived from them as Redis derives it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dragonfly_py.commands.util import parse_int
from dragonfly_py.protocol.resp import ReplyError

_ATOI_PREFIX = re.compile(rb"[ \t\n\v\f\r]*([+-]?[0-9]+)")
# A key found: its index in argv and the flags of the spec that found it (none where Redis's own
# key finder answered for a spec that failed; see _fallback_keys).
FoundKey = tuple[int, tuple[str, ...]]


@dataclass(frozen=True)
class KeySpec:
    flags: tuple[str, ...]
    index: int = 0  # begin_search by index; 0 when it begins after keyword
    keyword: str = ""
    startfrom: int = 0  # where the keyword is looked for (negative: from the end, backwards)
    lastkey: int = 0  # range: the last key relative to the first (negative: from argv's end)
    keystep: int = 1
    limit: int = 0  # range with lastkey -1: only 1/limit of what follows the first key
    keynumidx: int | None = None  # keynum: the count's index relative to where the search began
    firstkey: int = 1  # keynum: the first key's index relative to where the search began
    notes: str = ""

    @property
    def by_keynum(self) -> bool:
        return self.keynumidx is not None

    @property
    def legacy(self) -> bool:
        """An index and a range: what the legacy (first, last, step) triple can describe."""
        return self.index > 0 and not self.by_keynum


def spec(
    flags: str,
    index: int = 1,
    *,
    keyword: str = "",
    startfrom: int = 0,
    lastkey: int = 0,
    keystep: int = 1,
    limit: int = 0,
    keynumidx: int | None = None,
    firstkey: int = 1,
    notes: str = "",
) -> KeySpec:
    """A KeySpec with its flags written as Redis's COMMAND INFO lists them ("RW access delete")."""
    return KeySpec(tuple(flags.split()), index, keyword, startfrom, lastkey, keystep, limit, keynumidx, firstkey, notes)


def from_range(flags: str, first: int, last: int, step: int) -> tuple[KeySpec, ...]:
    """The one spec of a command declared by its legacy triple (keys=(first, last, step))."""
    if first == 0:
        return ()
    return (spec(flags, first, lastkey=last - first if last >= 0 else last, keystep=step),)


def legacy_range(specs: tuple[KeySpec, ...]) -> tuple[int, int, int]:
    """COMMAND's (first, last, step), as Redis's populateCommandLegacyRangeSpec glues the specs:
    one index-and-range spec as it is; several only while each range follows the one before
    with step 1; a spec of another kind is left out (its keys are movable), (0, 0, 0) if none."""
    ranges = [s for s in specs if s.legacy]
    if len(specs) == 1 and ranges:
        (only,) = ranges
        return only.index, only.lastkey + only.index if only.lastkey >= 0 else only.lastkey, only.keystep
    first, last = 0, 0
    for s in ranges:
        if s.keystep != 1 or (last and last != s.index - 1):
            return 0, 0, 0
        first = min(first or s.index, s.index)
        end = s.lastkey + s.index if s.lastkey >= 0 else s.lastkey
        last = max(last, end, key=_as_unsigned)
    return (first, last, 1) if first else (0, 0, 0)


def _as_unsigned(index: int) -> tuple[bool, int]:
    """Redis compares last keys as unsigned: one counted from the end (negative) is the larger."""
    return index < 0, index


def _begin(s: KeySpec, argv: list[bytes]) -> int:
    """Index where s's search begins, 0 where its keyword is not there."""
    if s.index:
        return s.index
    argc = len(argv)
    start = s.startfrom if s.startfrom > 0 else argc + s.startfrom
    stop, step = (argc - 1, 1) if s.startfrom > 0 else (1, -1)  # as Redis: neither end
    keyword = s.keyword.encode()
    for i in range(start, stop, step):
        if i >= argc or i < 1:
            break
        if argv[i].upper() == keyword:
            return i + 1
    return 0


def _span(s: KeySpec, argv: list[bytes], first: int) -> range | None:
    """The key indexes of s from first on, or None where the arguments cannot hold them."""
    argc = len(argv)
    if s.by_keynum:
        assert s.keynumidx is not None
        at = first + s.keynumidx
        if at >= argc:
            return None
        try:
            numkeys = parse_int(argv[at])  # Redis's string2ll
        except ReplyError:
            return None
        if numkeys < 0:
            return None
        first += s.firstkey
        last = first + numkeys - 1
    elif s.lastkey >= 0:
        last = first + s.lastkey
    elif s.limit:
        last = first + (argc - first) // s.limit + s.lastkey
    else:
        last = argc + s.lastkey
    if last >= argc or last < first or first >= argc:
        return None
    return range(first, last + 1, s.keystep)


def find_keys(specs: tuple[KeySpec, ...], argv: list[bytes]) -> list[FoundKey] | None:
    """The keys of argv (the command's name first) as getKeysUsingKeySpecs finds them, with each
    spec's flags; None where a spec cannot apply (a bad count, too few arguments)."""
    found: list[FoundKey] = []
    for s in specs:
        first = _begin(s, argv)
        if not first:
            continue  # no keyword, no keys of this spec
        span = _span(s, argv, first)
        if span is None:
            return None
        found.extend((i, s.flags) for i in span)
    return found


def keys_of(specs: tuple[KeySpec, ...], argv: list[bytes]) -> list[FoundKey]:
    """find_keys, else what Redis's own key finders (getkeys_proc) answer where a spec fails."""
    found = find_keys(specs, argv)
    if found is not None:
        return found
    return _fallback_keys(specs, argv)


def _atoi(text: bytes) -> int:
    """C's atoi: leading white space, a sign, then the digits there are (0 for none)."""
    match = _ATOI_PREFIX.match(text)
    return int(match.group(1)) if match else 0


def _fallback_keys(specs: tuple[KeySpec, ...], argv: list[bytes]) -> list[FoundKey]:
    """Where a count spec fails (Redis's genericGetKeys): the count read as atoi reads it, and
    keys without flags, any destination key last; none where the count is out of range."""
    counted = [s for s in specs if s.by_keynum]
    if not counted:
        return []
    (s,) = counted
    count_at = s.index + s.keynumidx  # type: ignore[operator]  # a count spec has one
    first = s.index + s.firstkey
    num = _atoi(argv[count_at]) if count_at < len(argv) else 0
    if num < 1 or num > (len(argv) - first) // s.keystep:
        return []
    found: list[FoundKey] = [(first + i * s.keystep, ()) for i in range(num)]
    return found + [(d.index, ()) for d in specs if d.legacy]
