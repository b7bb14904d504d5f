"""Sans-IO request parser: bytes in, argv lists out.

hiredis parses ``*``-framed requests at C speed. It cannot parse inline commands (telnet,
``redis-benchmark -t ping_inline``, the bare newline of ``redis-cli --pipe``) and it accepts
frames Redis refuses (integers, nested arrays), so a pure parser that mirrors Redis's
``processInlineBuffer``/``processMultibulkBuffer`` takes over whenever hiredis is not at home:
inline input, unauthenticated clients (tighter limits) and anything hiredis rejects. The pure
parser also produces Redis's exact protocol error texts.
"""

from __future__ import annotations

import re

import hiredis

from dragonfly_py.protocol.resp import encode_command

INLINE_MAX_SIZE = 64 * 1024  # PROTO_INLINE_MAX_SIZE
MBULK_BIG_ARG = 32 * 1024
INT_MAX = 2**31 - 1
UNAUTH_MAX_MULTIBULK = 10
UNAUTH_MAX_BULK = 16384
# Past this much buffered data of one unfinished request, check its headers early so an
# oversized bulk length is refused when announced, not after hundreds of MB arrived.
EARLY_CHECK_THRESHOLD = 1024 * 1024
# Whole requests held before the parser checks that nothing of a next one is among them.
SETTLE_SIZE = 64 * 1024
# A read that ends inside a request has its headers checked when this little is held behind
# this few requests (the pure scan costs about as much as the bytes it reads again).
PARTIAL_CHECK_SIZE = 16 * 1024
PARTIAL_CHECK_REQUESTS = 16


# The header of an array of 10M elements or more (see _big_array_in), and the longest an
# array header can be ("*2147483647\r\n", INT_MAX).
_BIG_ARRAY_SEARCH = re.compile(rb"\*[0-9]{8}").search
ARRAY_HEADER_SIZE = 13
# An empty array: exact_read's question to hiredis, whether it stands between requests.
_PROBE = b"*0\r\n"
_NOT_READ = object()  # RequestParser._collect: gets() was not called yet
# What gets() returns while no whole reply is buffered (notEnoughData): a list of one element no
# reply holds, since iter() compares each reply with it (==), and a list of another length differs
# at once; a plain object() cost ~40 instructions more per request (two refused compares).
_NO_MORE: list[object] = [object()]


class ProtocolError(Exception):
    """A request that breaks RESP; the text follows ``Protocol error: ``."""


class RequestParser:
    """Feed raw bytes with :meth:`feed`; it returns the complete requests found.

    After a protocol error, :attr:`error` is set: the requests returned before it are valid
    and must still run, then the connection is closed with the error.
    """

    __slots__ = (
        "_reader",
        "_held",
        "_held_size",
        "_returned_since_empty",
        "_pure",
        "_early_checked",
        "_mid_request",
        "_maybe_done",
        "_began_clean",
        "error",
        "_strict",
        "_at_rest",
        "max_bulk_len",
        "max_query_buffer",
    )

    def __init__(self, max_bulk_len: int = 512 * 1024 * 1024, max_query_buffer: int = 1 << 30) -> None:
        self._reader = hiredis.Reader(notEnoughData=_NO_MORE)
        self._held: list[bytes] = []  # bytes fed to hiredis since its buffer was last empty
        self._held_size = 0
        self._returned_since_empty = 0
        self._pure: bytearray | None = None  # set while the pure parser owns the stream
        self._early_checked = False
        # hiredis consumes complete elements of an unfinished request, so has_data() alone
        # cannot tell "between requests" from "between two arguments"; this flag can, once a
        # pending _maybe_done (the last request returned, see feed) has been settled.
        self._mid_request = False
        self._maybe_done: list[bytes] | None = None
        self._began_clean = False  # the last read began where a request begins (see exact_read)
        self.error: str | None = None
        self._strict = False
        # Nothing above keeps a read from feed's shortest path: no pure parser, not inside a
        # request, not strict, no error. Kept by _settle_rest wherever they may change, so each
        # read asks one flag instead of four (~300 instructions less per request at -P1).
        self._at_rest = True
        self.max_bulk_len = max_bulk_len
        self.max_query_buffer = max_query_buffer

    @property
    def strict(self) -> bool:
        """An unauthenticated client: Redis's smaller limits."""
        return self._strict

    @strict.setter
    def strict(self, value: bool) -> None:
        self._strict = value
        self._settle_rest()

    def _settle_rest(self) -> None:
        self._at_rest = self._pure is None and not self._mid_request and not self._strict and self.error is None

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete request (qbuf in CLIENT LIST)."""
        if self._maybe_done is not None:
            self._settle()
            self._settle_rest()
        return len(self._pure) if self._pure is not None else self._held_size

    def exact_read(self, data: bytes) -> bool:
        """Whether ``data``, the last read, held exactly the requests feed returned for it, from
        the start of the first to the end of the last: then those bytes are the requests, and
        replicas may get them as they came.

        Where the read began is known: hiredis read it alone, without error, and it began with an
        array where the parser stood between requests, or between two elements of one, where an
        array would be nested, which feed refuses. (hiredis takes each header in one spelling
        only, and the two bytes after a payload, which neither Redis nor hiredis check, have a
        fixed length.) Where it ended, hiredis is asked (_ends_between_requests), also when the
        start is not known: the answer lets the next read begin clean."""
        if self._pure is not None or self.error is not None or self._reader.has_data():
            return False
        between = self._ends_between_requests()
        self._settle_rest()
        return between and self._began_clean and data[0] == 0x2A

    def _ends_between_requests(self) -> bool:
        """Whether hiredis, its buffer empty, stands between requests: it consumes the whole
        elements of an unfinished request, so its buffer is empty either way. It is asked with an
        empty array: between requests that is a request of its own, returned here and dropped;
        inside one it is an element (or a bad length after a type byte), and the unfinished
        request is read again from its start."""
        reader = self._reader
        reader.feed(_PROBE)
        try:
            answer = reader.gets()
        except hiredis.ProtocolError:  # it had consumed the type byte of an element: "$*0"
            answer = None
        if answer.__class__ is list and not answer:
            self._clear_held()
            return True
        held = b"".join(self._held)
        scan = _PureScanner(held, self)
        scan.skip(self._returned_since_empty)
        self._reset_hiredis()
        self._reader.feed(held[scan.pos :])
        self._hold(held[scan.pos :])
        self._mid_request = True
        return False

    def feed(self, data: bytes) -> list[list[bytes]]:
        if self._at_rest and data and data[0] == 0x2A:
            # The commonest read: one whole request, where hiredis stands between requests.
            # _big_array_in, inline. A count of at most 7 digits (its CR among the 7 bytes after
            # the first digit; one digit is the commonest, asked first) and no other '*' means no
            # big header, and these looks cost less than the search (~1.7k instructions of a MSET
            # of 10 keys).
            short_count = data[2:3] == b"\r" or 0x0D in data[3:9]
            if (not short_count or 0x2A in data[1:]) and _BIG_ARRAY_SEARCH(data) is not None:
                return self._refused(data)
            reader = self._reader
            reader.feed(data)
            try:
                request = reader.gets()
            except hiredis.ProtocolError:
                return self._refused(data)
            # hiredis stops after a request, so an empty buffer means the read ended with it.
            if reader.has_data() or request.__class__ is not list or not request:
                return self._collect(data, request, True)
            try:
                b"".join(request)  # TypeError for any element that is not bytes
            except TypeError:
                # The "no more data" sentinel is a list too (its element no bytes): a read that
                # ends between two elements of a request, asked about here, off the shortest path.
                return self._collect(data, request, True) if request is _NO_MORE else self._refused(data)
            # _may_be_misframed, narrowed: the read begins with *, not LF, and holds nothing after
            # the request, so only an element can be misframed, and a set (~), an attribute (|)
            # or a boolean (#) element is no bytes (the join above refused it).
            if (0x2B in data or 0x3D in data or 0x28 in data) and self._misframed(data, 1):
                return self._refused(data)
            # A flat array read from the read's first byte: whatever was held before it ended
            # with a request (else the array would be nested in the unfinished one), and so does
            # the read (gets() returns one request, and left nothing).
            if self._held_size:
                self._clear_held()
            self._began_clean = True
            return [request]
        requests = self._feed_general(data)
        self._settle_rest()
        return requests

    def _feed_general(self, data: bytes) -> list[list[bytes]]:
        self._began_clean = False
        if self.error is not None:
            return []
        if self._pure is not None or self._strict:
            return self._feed_pure(data)
        if not data:
            return []
        if data[0] not in b"*$":  # an inline command, or the payload of a request hiredis holds
            if self._maybe_done is not None:
                self._settle()
            if not self._mid_request:
                return self._feed_pure(data)
        began_clean = not self._mid_request  # not known to be inside a request (see exact_read)
        if self._big_array_in(data):
            return self._refused(data)
        self._reader.feed(data)
        return self._collect(data, _NOT_READ, began_clean)

    def _collect(self, data: bytes, first: object, began_clean: bool) -> list[list[bytes]]:
        """The requests hiredis finds in the read just fed to it; ``first`` is what its first
        gets() returned, if that was called."""
        reader = self._reader
        try:
            if first is _NOT_READ:
                first = reader.gets()
            # Both loops in C (~140 instructions less per request at -P16 than in Python): gets()
            # until hiredis holds no whole reply, then each request joined: a TypeError for
            # anything but an array of bytes (a map (%) or a push (>) joins, but is misframed),
            # nothing joined for a *0, which Redis skips, or one empty name (the pure parser
            # reads both as Redis).
            out: list[list[bytes]] = [] if first is _NO_MORE else [first, *iter(reader.gets, _NO_MORE)]  # type: ignore[list-item]
            if out and (
                not all(map(b"".join, out)) or (self._may_be_misframed(data) and self._misframed(data, len(out)))
            ):
                raise hiredis.ProtocolError
        except (hiredis.ProtocolError, TypeError):
            return self._refused(data)
        self._began_clean = began_clean
        if out and not reader.has_data():
            # Almost surely between requests, but a read can also end between two arguments of
            # the next one.  Telling them apart costs an encode, so it waits until it matters:
            # where the read ends otherwise than the last request, or much is held.
            last = out[-1]
            self._maybe_done = last
            self._mid_request = False  # not known until settled (an earlier read may have said so)
            self._held.append(data)  # _hold, inline: this branch runs for nearly every read
            self._held_size += len(data)
            self._returned_since_empty += len(out)
            if not data.endswith(last[-1], 0, len(data) - 2):  # the read ends elsewhere
                self._settle()  # hiredis may have taken a header of the next request whole
                if self._mid_request:
                    self._check_partial()
            elif self._held_size > SETTLE_SIZE:
                self._settle()
        else:
            if self._maybe_done is not None:
                self._settle()  # where the earlier bytes ended, before this read's
            self._hold(data)
            self._mid_request = True
            self._returned_since_empty += len(out)
            self._check_partial()
        # _settle_rest, inline: here nothing is pure or strict (feed took the read to hiredis).
        self._at_rest = not self._mid_request and self.error is None
        return out

    @staticmethod
    def _may_be_misframed(data: bytes) -> bool:
        """Whether the read holds a byte that may begin a non-bulk string (+ = ( LF) or a
        request that is no array (~ | # % >); see _misframed. Tested with int operands: one memchr
        each (a bytes operand fails and formats a TypeError first)."""
        return (
            0x2B in data
            or 0x3D in data
            or 0x28 in data
            or 0x7E in data
            or 0x7C in data
            or 0x23 in data
            or 0x25 in data
            or 0x3E in data
            or data[0] == 0x0A
        )

    def _refused(self, data: bytes) -> list[list[bytes]]:
        """hiredis refused the read, or read it otherwise than Redis: replay it in the pure
        parser, which runs the requests before the bad one and words the error as Redis does."""
        self._hold(data)
        requests = self._take_over_from_hiredis()
        self._settle_rest()
        return requests

    def _misframed(self, data: bytes, count: int) -> bool:
        """Whether hiredis read one of the read's requests otherwise than Redis would:
        - an element that is a simple (+), verbatim (=) or big number (() string, which hiredis
          returns as bytes and Redis refuses;
        - a request that begins with a set (~), an attribute (|), a push (>) or a map (%), which
          hiredis returns as a list (or a subclass, or a dict: both join) and Redis reads as an
          inline command, as it does anything but '*';
        - a boolean (#), which Redis reads as an inline command (hiredis returns it as a bool,
          which the join in _collect refuses first now that "no more data" is no False).
        Each begins a line with its type byte; so does a bulk string's payload, so such a
        line only means a closer look. A read that begins with one of them (or with the LF of a
        split CRLF) may continue such a line."""
        find = data.find
        if (
            data[0] not in b"+=(~|#%>\n"
            and find(b"\r\n+") < 0
            and find(b"\r\n=") < 0
            and find(b"\r\n(") < 0
            and find(b"\r\n~") < 0
            and find(b"\r\n|") < 0
            and find(b"\r\n#") < 0
            and find(b"\r\n%") < 0
            and find(b"\r\n>") < 0
        ):
            return False
        scan = _PureScanner(b"".join(self._held) + data if self._held else data, self)
        scan.skip(self._returned_since_empty)
        try:
            for _ in range(count):
                if scan.buf[scan.pos] != 0x2A:  # '*'
                    return True
                scan.next_request()
        except ProtocolError:
            return True
        return scan.pos < len(scan.buf) and scan.buf[scan.pos] != 0x2A  # what hiredis took for its end

    def _hold(self, data: bytes) -> None:
        self._held.append(data)
        self._held_size += len(data)

    def _settle(self) -> None:
        """Decide whether the held bytes end with the last request returned (hiredis is empty)."""
        last, self._maybe_done = self._maybe_done, None
        if last is not None and self._held_ends_with(encode_command(last)):
            self._clear_held()
        else:
            self._mid_request = True

    def _clear_held(self) -> None:
        """hiredis stands between requests: nothing it was fed is part of an unfinished one."""
        self._held.clear()
        self._held_size = 0
        self._returned_since_empty = 0
        self._early_checked = False
        self._mid_request = False
        self._maybe_done = None

    def _held_ends_with(self, tail: bytes) -> bool:
        for chunk in reversed(self._held):
            if len(tail) <= len(chunk):
                return chunk.endswith(tail)
            if not tail.endswith(chunk):
                return False
            tail = tail[: -len(chunk)]
        return False

    def _check_partial(self) -> None:
        """The read ended inside a request, whose headers hiredis accepts that Redis refuses as
        they arrive (a count over INT_MAX, a bulk length over proto-max-bulk-len, an element that
        is no bulk string): check them now, so the client hears of it without sending more. A
        read of little held behind few requests is checked each time; beyond, once, past 1 MB."""
        if self._held_size > self.max_query_buffer:
            self.error = "query buffer limit"
        elif self._held_size <= PARTIAL_CHECK_SIZE and self._returned_since_empty <= PARTIAL_CHECK_REQUESTS:
            self._check_unfinished()
        elif self._held_size > EARLY_CHECK_THRESHOLD and not self._early_checked:
            self._early_checked = True
            self._check_unfinished()

    def _big_array_in(self, data: bytes) -> bool:
        """Whether data holds the header of an array of 10M elements or more, which the pure
        parser then reads: hiredis makes a list of that length at once (Redis grows its arguments
        as they come), and freeing it, or each full garbage collection while it lives, walks
        every slot: seconds at two billion. Inside a request, the header may have begun in the
        reads before, a few bytes a read."""
        if not self._mid_request or not self._held:
            return _BIG_ARRAY_SEARCH(data) is not None
        need, before = ARRAY_HEADER_SIZE, []
        for chunk in reversed(self._held):
            before.append(chunk[-need:])
            need -= len(before[-1])
            if need <= 0:
                break
        return _BIG_ARRAY_SEARCH(b"".join(reversed(before)) + data) is not None

    def _check_unfinished(self) -> None:
        scan = _PureScanner(b"".join(self._held), self)
        try:
            scan.skip(self._returned_since_empty)
            scan.next_request()
        except ProtocolError as exc:
            self.error = f"Protocol error: {exc}"

    def _take_over_from_hiredis(self) -> list[list[bytes]]:
        """hiredis refused the read: replay it in the pure parser from the last request returned."""
        raw = b"".join(self._held)
        skip = self._returned_since_empty
        self._reset_hiredis()
        scan = _PureScanner(raw, self)
        scan.skip(skip)
        self._pure = bytearray(raw[scan.pos :])
        return self._feed_pure(b"")

    def _reset_hiredis(self) -> None:
        self._reader = hiredis.Reader(notEnoughData=_NO_MORE)
        self._clear_held()

    def _feed_pure(self, data: bytes) -> list[list[bytes]]:
        buf = self._pure if self._pure is not None else bytearray()
        buf += data
        scan = _PureScanner(buf, self)
        out: list[list[bytes]] = []
        try:
            while (request := scan.next_request()) is not None:
                if request:
                    out.append(request)
        except ProtocolError as exc:
            self.error = f"Protocol error: {exc}"
            self._pure = None
            return out
        del buf[: scan.pos]
        if len(buf) > self.max_query_buffer:
            self.error = "query buffer limit"
        # Hand back to hiredis once the pure parser sits on an empty buffer.
        self._pure = buf if buf else None
        return out


class _PureScanner:
    """One pass over a buffer; ``pos`` is where the next unparsed request starts."""

    __slots__ = ("buf", "pos", "owner")

    def __init__(self, buf: bytes | bytearray, owner: RequestParser) -> None:
        self.buf = buf
        self.pos = 0
        self.owner = owner

    def skip(self, count: int) -> None:
        """Step over requests hiredis already returned.  They were valid multibulk requests, so
        only their lengths are read (a ``redis-cli --pipe`` stream can hold hundreds of
        thousands of them; parsing each in full was most of the early check's cost)."""
        buf, pos, find = self.buf, self.pos, self.buf.find
        for _ in range(count):
            if pos >= len(buf) or buf[pos] != 0x2A:  # not a multibulk request: parse it in full
                self.pos = pos
                if self.next_request() is None:
                    raise AssertionError("hiredis returned a request the pure parser cannot see")
                pos = self.pos
                continue
            end = find(b"\r\n", pos)
            arguments = int(buf[pos + 1 : end])
            pos = end + 2
            for _ in range(arguments):
                end = find(b"\r\n", pos)
                pos = end + 2 + int(buf[pos + 1 : end]) + 2
        if pos > len(buf):
            raise AssertionError("hiredis returned a request the pure parser cannot see")
        self.pos = pos

    def next_request(self) -> list[bytes] | None:
        """The next request ([] for an empty one), or None when more bytes are needed."""
        if self.pos >= len(self.buf):
            return None
        if self.buf[self.pos] == 0x2A:  # '*'
            return self._multibulk()
        return self._inline()

    def _inline(self) -> list[bytes] | None:
        buf, start = self.buf, self.pos
        end = buf.find(b"\n", start)
        if end < 0:
            if len(buf) - start > INLINE_MAX_SIZE:
                raise ProtocolError("too big inline request")
            return None
        line = bytes(buf[start:end])
        if line.endswith(b"\r"):
            line = line[:-1]
        args = split_args(line)
        if args is None:
            raise ProtocolError("unbalanced quotes in request")
        self.pos = end + 1
        return args

    def _line(self, too_big: str) -> bytes | None:
        """A header, up to its CR: Redis looks for the CR alone and steps over the byte after it,
        whatever it is, so it waits for that byte too."""
        cr = self.buf.find(b"\r", self.pos)
        if cr < 0 or cr + 1 >= len(self.buf):
            if cr < 0 and len(self.buf) - self.pos > INLINE_MAX_SIZE:
                raise ProtocolError(too_big)
            return None
        line = bytes(self.buf[self.pos : cr])
        self.pos = cr + 2
        return line

    def _multibulk(self) -> list[bytes] | None:
        start = self.pos
        header = self._line("too big mbulk count string")
        if header is None:
            return None
        count = parse_int(header[1:])
        if count is None or count > INT_MAX:
            raise ProtocolError("invalid multibulk length")
        strict = self.owner.strict
        if strict and count > UNAUTH_MAX_MULTIBULK:
            raise ProtocolError("unauthenticated multibulk length")
        args: list[bytes] = []
        for _ in range(count):
            arg = self._bulk(strict)
            if arg is None:
                self.pos = start
                return None
            args.append(arg)
        return args

    def _bulk(self, strict: bool) -> bytes | None:
        buf = self.buf
        if self.pos >= len(buf):
            return None
        start = self.pos
        header = self._line("too big bulk count string")  # before the type byte, as Redis
        if header is None:
            return None
        if buf[start] != 0x24:  # '$'
            raise ProtocolError(f"expected '$', got '{_printable(buf[start])}'")
        length = parse_int(header[1:])
        if length is None or length < 0 or length > self.owner.max_bulk_len:
            raise ProtocolError("invalid bulk length")
        if strict and length > UNAUTH_MAX_BULK:
            raise ProtocolError("unauthenticated bulk length")
        end = self.pos + length
        if end + 2 > len(buf):
            return None
        arg = bytes(buf[self.pos : end])
        self.pos = end + 2  # Redis skips the CRLF without checking it
        return arg


def _printable(byte: int) -> str:
    """A byte in an error line as Redis sends it: itself (one past ASCII escaped as the reply's
    encoding expects, see resp.ReplyError), CR and LF as spaces, which Redis's
    addReplyErrorFormat puts there so that the error stays one line."""
    if byte in (0x0D, 0x0A):
        return " "
    return chr(byte) if byte < 0x80 else bytes((byte,)).decode("utf-8", "surrogateescape")


def parse_int(raw: bytes | bytearray) -> int | None:
    """Redis's string2ll: optional '-', digits, no leading zeros, no spaces, fits in 64 bits."""
    if not raw or len(raw) > 20:
        return None
    digits = raw[1:] if raw[:1] == b"-" else raw
    if not digits.isdigit() or (len(digits) > 1 and digits[:1] == b"0") or (digits == b"0" and raw[:1] == b"-"):
        return None
    value = int(raw)
    if not -(2**63) <= value < 2**63:
        return None
    return value


_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("a"): b"\a"}
_HEX = b"0123456789abcdefABCDEF"


def split_args(line: bytes) -> list[bytes] | None:
    """Redis's sdssplitargs: whitespace-separated words, "..." with escapes, '...'.

    Returns None on unbalanced quotes (or a closing quote not followed by a space).
    """
    args: list[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in b" \n\r\t\v\f":
            i += 1
        if i >= n:
            return args
        current = bytearray()
        in_double = in_single = False
        while True:
            if in_double:
                if i >= n:
                    return None
                c = line[i]
                if c == 0x5C and i + 3 < n and line[i + 1] == ord("x") and line[i + 2] in _HEX and line[i + 3] in _HEX:
                    current.append(int(line[i + 2 : i + 4], 16))
                    i += 3
                elif c == 0x5C and i + 1 < n:
                    i += 1
                    current += _ESCAPES.get(line[i], bytes([line[i]]))
                elif c == 0x22:
                    if i + 1 < n and line[i + 1] not in b" \n\r\t\v\f":
                        return None
                    in_double = False
                    i += 1
                    break
                else:
                    current.append(c)
            elif in_single:
                if i >= n:
                    return None
                c = line[i]
                if c == 0x5C and i + 1 < n and line[i + 1] == 0x27:
                    i += 1
                    current.append(0x27)
                elif c == 0x27:
                    if i + 1 < n and line[i + 1] not in b" \n\r\t\v\f":
                        return None
                    in_single = False
                    i += 1
                    break
                else:
                    current.append(c)
            else:
                if i >= n:
                    break
                c = line[i]
                if c in b" \n\r\t\v\f":
                    break
                if c == 0x22:
                    in_double = True
                elif c == 0x27:
                    in_single = True
                else:
                    current.append(c)
            i += 1
        args.append(bytes(current))
