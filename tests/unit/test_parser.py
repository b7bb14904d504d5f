"""The request parser: hiredis fast path, inline fallback, Redis's protocol errors."""

from __future__ import annotations

import tracemalloc
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from dragonfly_py.protocol.parser import RequestParser, _PureScanner, split_args


def encode(argv: list[bytes]) -> bytes:
    return b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv)


def parse_all(*chunks: bytes) -> tuple[list[list[bytes]], str | None]:
    parser = RequestParser()
    out: list[list[bytes]] = []
    for chunk in chunks:
        out += parser.feed(chunk)
    return out, parser.error


def test_multibulk_requests_in_one_read() -> None:
    data = encode([b"SET", b"a", b"1"]) + encode([b"GET", b"a"])
    assert parse_all(data) == ([[b"SET", b"a", b"1"], [b"GET", b"a"]], None)


def test_empty_and_null_arrays_are_skipped() -> None:
    # Redis ignores *0 and *-1; hiredis returns [] and None for them.
    data = b"*0\r\n" + encode([b"PING"]) + b"*-1\r\n*0\r\n" + encode([b"ECHO", b"x"])
    assert parse_all(data) == ([[b"PING"], [b"ECHO", b"x"]], None)
    assert parse_all(encode([b"PING"]), b"*0\r\n", encode([b"PING"])) == ([[b"PING"], [b"PING"]], None)


def test_inline_commands_and_empty_lines() -> None:
    assert parse_all(b'PING\r\n\r\nSET k "a b"\n') == ([[b"PING"], [b"SET", b"k", b"a b"]], None)


def test_inline_after_multibulk_in_the_same_read() -> None:
    # redis-cli --pipe ends with a bare newline and an ECHO, often in one segment.
    data = encode([b"SET", b"a", b"1"]) + b"\r\n" + encode([b"ECHO", b"x"])
    assert parse_all(data) == ([[b"SET", b"a", b"1"], [b"ECHO", b"x"]], None)


def test_split_between_arguments_stays_one_request() -> None:
    # hiredis consumes "*2\r\n$3\r\nSET\r\n" and reports no pending data; the next read must
    # still continue that request rather than start an inline one.
    assert parse_all(b"*3\r\n$3\r\nSET\r\n", b"$1\r\na\r\n", b"$1\r\nb\r\n") == ([[b"SET", b"a", b"b"]], None)


def test_an_empty_read_changes_nothing() -> None:
    assert parse_all(b"", b"*3\r\n$3\r\nSET\r\n", b"", b"$1\r\na\r\n$1\r\nb\r\n", b"") == ([[b"SET", b"a", b"b"]], None)
    assert parse_all(b"PI", b"", b"NG\r\n") == ([[b"PING"]], None)


def test_a_read_ending_between_arguments_after_a_whole_request() -> None:
    # The first read returns PING and leaves hiredis empty-handed between two arguments of the
    # next request: the parser cannot tell from hiredis whether a request is under way.
    whole, partial = encode([b"PING"]), b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n"
    parser = RequestParser()
    assert parser.feed(whole + partial) == [[b"PING"]]
    assert parser.buffered >= len(partial)  # qbuf: the read that holds the unfinished request
    assert parser.feed(b"$1\r\nv\r\n") == [[b"SET", b"k", b"v"]]
    assert parser.buffered == 0


def test_an_inline_command_after_whole_requests_in_separate_reads() -> None:
    assert parse_all(encode([b"PING"]), encode([b"ECHO", b"a"]), b"PING\r\n") == (
        [[b"PING"], [b"ECHO", b"a"], [b"PING"]],
        None,
    )


def test_a_bad_element_after_a_read_that_ended_between_arguments() -> None:
    # Not an inline command: the bytes continue the request, and Redis's error names them.
    out, error = parse_all(encode([b"PING"]) + b"*2\r\n$3\r\nGET\r\n", b":5\r\n")
    assert out == [[b"PING"]]
    assert error == "Protocol error: expected '$', got ':'"


def test_an_array_after_a_read_that_ended_between_arguments_is_nested() -> None:
    # The read looks like a whole request of its own, but it continues the one under way, as an
    # element where Redis wants a bulk string (checked against redis-server 7.0).
    out, error = parse_all(encode([b"PING"]) + b"*2\r\n$3\r\nGET\r\n", encode([b"PING"]))
    assert out == [[b"PING"]]
    assert error == "Protocol error: expected '$', got '*'"


def test_whole_requests_after_a_read_that_ended_between_arguments() -> None:
    parser = RequestParser()
    assert parser.feed(encode([b"GET", b"a"]) + b"*2\r\n$3\r\nGET\r\n") == [[b"GET", b"a"]]
    assert parser.feed(b"$1\r\nb\r\n") == [[b"GET", b"b"]]
    assert parser.feed(encode([b"PING"])) == [[b"PING"]]
    assert parser.buffered == 0 and parser.exact_read(encode([b"PING"]))


def test_many_whole_requests_keep_no_query_buffer() -> None:
    parser = RequestParser()
    request = encode([b"SET", b"key", b"x" * 100])
    for _ in range(2000):  # more than the parser holds before settling
        assert parser.feed(request) == [[b"SET", b"key", b"x" * 100]]
    assert len(parser._held) < 1000
    assert parser.buffered == 0


def test_inline_then_multibulk_split_across_reads() -> None:
    assert parse_all(b"PI", b"NG\r\n*1\r\n$4\r\nPI", b"NG\r\n") == ([[b"PING"], [b"PING"]], None)


def test_invalid_multibulk_length() -> None:
    assert parse_all(b"*abc\r\n") == ([], "Protocol error: invalid multibulk length")


def test_expected_dollar() -> None:
    out, error = parse_all(encode([b"PING"]) + b"*1\r\n:5\r\n")
    assert out == [[b"PING"]]
    assert error == "Protocol error: expected '$', got ':'"


def test_string_elements_that_hiredis_reads_as_bytes_are_refused() -> None:
    # hiredis returns a simple (+), verbatim (=) or big number (() string as bytes, as it does a
    # bulk string; Redis refuses them in a request, after running the requests before.
    for kind in b"+=(":
        bad = b"*2\r\n$3\r\nGET\r\n%cabc\r\n" % kind
        expected = ([[b"PING"]], f"Protocol error: expected '$', got '{chr(kind)}'")
        assert parse_all(encode([b"PING"]) + bad) == expected
        cut = bad.index(b"%cabc" % kind)
        assert parse_all(encode([b"PING"]) + bad[:cut], bad[cut:]) == expected  # the line starts a read
        assert parse_all(encode([b"PING"]) + bad[: cut - 1], bad[cut - 1 :]) == expected  # CR | LF


def test_requests_that_begin_like_resp3_aggregates_are_inline() -> None:
    # hiredis returns a set (~), an attribute (|) or a push (>) as a list (or a subclass), and a
    # map (%) as a dict; Redis reads a request that does not begin with '*' as an inline
    # command, wherever it sits in a read.
    for aggregate in (
        b"~1\r\n$4\r\nPING\r\n",
        b"|1\r\n+a\r\n+b\r\n",
        b">2\r\n$3\r\nGET\r\n$1\r\na\r\n",
        b"%1\r\n$3\r\nGET\r\n$1\r\na\r\n",
    ):
        lines = [line.split() for line in aggregate.split(b"\r\n")[:-1]]
        expected = ([[b"PING"], *lines, [b"ECHO", b"x"]], None)
        data = encode([b"PING"]) + aggregate + encode([b"ECHO", b"x"])
        assert parse_all(data) == expected
        assert parse_all(*[data[i : i + 1] for i in range(len(data))]) == expected


def parse_strict(data: bytes) -> tuple[list[list[bytes]], str | None]:
    """As the pure parser alone reads data (an unauthenticated client's parser)."""
    parser = RequestParser()
    parser.strict = True
    return parser.feed(data), parser.error


def test_elements_and_requests_that_are_no_bulk_strings_are_refused_as_redis_refuses_them() -> None:
    # hiredis reads them as values of their own types, in any position of a read of many
    # requests; Redis refuses them in an array, and reads a request that is no array inline.
    # :0, ,0 and #f equal False, which gets() returned for "no more data" before its own sentinel.
    for line in (b":5", b":0", b"$-1", b"*1\r\n$1\r\na", b"*-1", b"#t", b"#f", b"_", b",1.5", b",0", b"-err", b"*0"):
        for data in (
            encode([b"PING"]) + b"*2\r\n$3\r\nGET\r\n" + line + b"\r\n" + encode([b"ECHO", b"x"]),
            encode([b"PING"]) + line + b"\r\n" + encode([b"ECHO", b"x"]),
        ):
            expected = parse_strict(data)
            assert parse_all(data) == expected, data
            assert parse_all(*[data[i : i + 1] for i in range(len(data))]) == expected, data


def test_a_read_of_one_request_with_an_element_of_another_type_is_refused() -> None:
    # A read that holds one whole request and nothing else takes the parser's shortest path,
    # which looks for misframed strings (+ = () only: any other type is no bytes to hiredis).
    for element in (b"+abc", b"=7\r\ntxt:abc", b"(12", b"~1\r\n$1\r\na", b"|1\r\n+k\r\n+v\r\n$1\r\na", b"#t", b"#f"):
        data = b"*2\r\n$4\r\nECHO\r\n" + element + b"\r\n"
        requests, error = parse_all(data)
        assert (requests, error) == parse_strict(data), data
        assert requests == [] and error is not None, data


def test_an_empty_name_and_an_empty_array_among_requests_read_as_redis_reads_them() -> None:
    # Both join to nothing, which sends the read to the pure parser: [b""] is a request (an
    # unknown command), *0 is skipped.
    for middle in (b"*1\r\n$0\r\n\r\n", b"*0\r\n", b"*2\r\n$3\r\nGET\r\n$0\r\n\r\n"):
        data = encode([b"PING"]) + middle + encode([b"ECHO", b"x"])
        assert parse_all(data) == parse_strict(data), data
        assert parse_all(data)[1] is None and len(parse_all(data)[0]) == (2 if middle == b"*0\r\n" else 3)


def test_payloads_that_begin_like_string_headers_are_arguments() -> None:
    requests = [[b"ZRANGEBYSCORE", b"z", b"(1", b"+inf"], [b"XADD", b"s", b"MAXLEN", b"=", b"5", b"*", b"f", b"v"]]
    data = b"".join(encode(r) for r in requests)
    assert parse_all(data) == (requests, None)
    assert parse_all(*[data[i : i + 1] for i in range(len(data))]) == (requests, None)


def test_invalid_bulk_length() -> None:
    assert parse_all(b"*1\r\n$-5\r\n")[1] == "Protocol error: invalid bulk length"
    assert parse_all(b"*1\r\n$abc\r\n")[1] == "Protocol error: invalid bulk length"


def test_unbalanced_quotes() -> None:
    assert parse_all(b'SET "a b\r\n')[1] == "Protocol error: unbalanced quotes in request"


def test_too_big_inline_request() -> None:
    assert parse_all(b"A" * (70 * 1024))[1] == "Protocol error: too big inline request"


def test_unauthenticated_limits() -> None:
    parser = RequestParser()
    parser.strict = True
    parser.feed(b"*20\r\n")
    assert parser.error == "Protocol error: unauthenticated multibulk length"


def test_a_client_that_authenticates_gets_the_full_limits_at_once() -> None:
    parser = RequestParser()
    parser.strict = True
    assert parser.feed(encode([b"AUTH", b"pw"])) == [[b"AUTH", b"pw"]]
    parser.strict = False
    mset = [b"MSET", *[b"k"] * 20]  # over the unauthenticated count, and through hiredis now
    assert parser.feed(encode(mset)) == [mset]
    assert parser.error is None
    parser.strict = True  # as RESET or AUTH failing would not, but the limits follow the flag
    parser.feed(b"*20\r\n")
    assert parser.error == "Protocol error: unauthenticated multibulk length"


def test_oversized_bulk_refused_before_it_arrives() -> None:
    parser = RequestParser(max_bulk_len=2 * 1024 * 1024)
    parser.feed(b"*2\r\n$3\r\nSET\r\n$100000000\r\n" + b"x" * (2 * 1024 * 1024))
    assert parser.error == "Protocol error: invalid bulk length"


def test_mass_insert_stream_never_aligned_is_checked_after_its_complete_requests(monkeypatch: Any) -> None:
    """A redis-cli --pipe stream whose reads end mid-request: the early check steps over the
    requests already returned and finds the bad length in the unfinished one at the end."""
    requests = [[b"SET", b"key:%d" % i, b"v" * (i % 50)] for i in range(30000)]
    stream = b"".join(encode(r) for r in requests)
    tail = b"*2\r\n$3\r\nSET\r\n$100000000\r\n" + b"x" * (2 * 1024 * 1024)
    skipped: list[int] = []
    real_skip = _PureScanner.skip
    monkeypatch.setattr(_PureScanner, "skip", lambda self, count: (skipped.append(count), real_skip(self, count)))
    parser = RequestParser(max_bulk_len=2 * 1024 * 1024)
    out: list[list[bytes]] = []
    data = stream + tail
    for start in range(0, len(data), 4093):  # a prime chunk size: reads rarely end on a boundary
        out += parser.feed(data[start : start + 4093])
        if parser.error:
            break
    assert out == requests and parser.error == "Protocol error: invalid bulk length"
    assert start + 4093 < len(data)  # refused before the whole bulk arrived
    assert max(skipped) > 0  # the check started after complete requests, not at a boundary


def test_split_args_escapes() -> None:
    assert split_args(b"\"\\x41\\n\" 'it\\'s' plain") == [b"A\n", b"it's", b"plain"]
    assert split_args(b'"closed"x') is None


argv_strategy = st.lists(st.lists(st.binary(max_size=40), min_size=1, max_size=5), min_size=1, max_size=8)
# Payloads that look like RESP lines: the parser must still read them as the arguments they are.
line_like = st.lists(
    st.sampled_from([b"+", b"=", b"(", b"~", b"|", b"%", b">", b"#", b"\r", b"\n", b"$", b"*", b":", b"-", b"x", b"1"]),
    max_size=12,
)
framing_argv = st.lists(st.lists(line_like.map(b"".join), min_size=1, max_size=5), min_size=1, max_size=8)


@given(requests=argv_strategy, cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=10))
def test_any_split_parses_the_same(requests: list[list[bytes]], cuts: list[int]) -> None:
    data = b"".join(encode(r) for r in requests)
    points = sorted({c % (len(data) + 1) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    assert parse_all(*chunks) == (requests, None)


@given(requests=framing_argv, cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=10))
def test_any_split_of_line_like_payloads_parses_the_same(requests: list[list[bytes]], cuts: list[int]) -> None:
    test_any_split_parses_the_same.hypothesis.inner_test(requests, cuts)  # type: ignore[attr-defined]


@given(
    words=st.lists(st.from_regex(rb"[A-Za-z0-9]{1,10}", fullmatch=True), min_size=1, max_size=5),
    cut=st.integers(min_value=0, max_value=60),
)
def test_inline_any_split(words: list[bytes], cut: int) -> None:
    data = b" ".join(words) + b"\r\n"
    cut %= len(data) + 1
    assert parse_all(data[:cut], data[cut:]) == ([words], None)


@given(requests=framing_argv, cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=10))
def test_exact_read_says_yes_only_for_reads_of_whole_requests(requests: list[list[bytes]], cuts: list[int]) -> None:
    """Asked after every read of any split, exact_read is right when it says yes, and asking
    it (hiredis is probed) leaves the parse as it was."""
    data = b"".join(encode(r) for r in requests)
    points = sorted({c % (len(data) + 1) for c in cuts})
    parser = RequestParser()
    out: list[list[bytes]] = []
    for start, end in zip([0, *points], [*points, len(data)], strict=True):
        chunk = data[start:end]
        got = parser.feed(chunk)
        if got and parser.exact_read(chunk):
            assert chunk == b"".join(encode(r) for r in got)
        out += got
    assert (out, parser.error) == (requests, None)
    if not points:
        assert parser.buffered == 0


def test_exact_read_needs_the_requests_to_fill_the_read() -> None:
    """A read that ends after an argument whose bytes end like the read's last request is not
    exact: hiredis stands inside a request there, and the parse goes on from its start."""
    last = encode([b"SET", b"b", b"2"])
    lookalike_cut = (
        encode([b"SET", b"a", b"1"]) + last + b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n" % (len(last) - 2, last[:-2])
    )
    parser = RequestParser()
    requests = parser.feed(lookalike_cut)
    assert len(requests) == 2 and not parser.exact_read(lookalike_cut)
    rest = b"$1\r\nx\r\n"
    requests = parser.feed(rest)
    assert requests == [[b"SET", last[:-2], b"x"]] and not parser.exact_read(rest)
    whole = encode([b"SET", b"c", b"3"]) + encode([b"GET", b"c"])
    requests = parser.feed(whole)
    assert parser.exact_read(whole)


def test_a_header_is_refused_when_it_arrives_with_nothing_after_it() -> None:
    # Checked against redis-server 7.0: each answers at once, without waiting for more bytes.
    for data, error in (
        (b"*3000000000\r\n", "invalid multibulk length"),  # over INT_MAX
        (b"*1\r\n$600000000\r\n", "invalid bulk length"),  # over proto-max-bulk-len
        (b"*3\r\n$4\r\nECHO\r\n*1\r\n$1\r\na\r\n", "expected '$', got '*'"),  # a nested array
        (encode([b"PING"]) + b"*3000000000\r\n", "invalid multibulk length"),  # after a whole request
    ):
        parser = RequestParser()
        out = parser.feed(data)
        assert parser.error == f"Protocol error: {error}", data
        assert out == ([[b"PING"]] if data.startswith(encode([b"PING"])) else [])


def test_a_header_ends_at_its_cr_whatever_follows_it() -> None:
    # Redis looks for the CR alone and steps over the byte after it.
    assert parse_all(b"*2\r\n$4\r\nECHO\r:$1\rxk\r\n") == ([[b"ECHO", b"k"]], None)
    assert parse_all(b"*1\r\n\r1\r\n") == ([], "Protocol error: expected '$', got ' '")  # one line


def test_an_array_of_ten_million_elements_is_read_as_they_come() -> None:
    """hiredis would make a list as long as the header says at once (and walk it on every
    garbage collection); the pure parser reads such an array instead, element by element."""
    tracemalloc.start()
    try:
        parser = RequestParser()
        assert parser.feed(encode([b"PING"]) + b"*2000000") == [[b"PING"]]
        assert parser.feed(b"00\r\n$3\r\nSET\r\n") == []  # the header came in two reads
        assert parser.feed(b"*1\r\n*200000000\r\n") == []
        alone = RequestParser()  # a read of the header alone, where a request may begin
        assert alone.feed(b"*200000000\r\n") == []
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000
    assert parser.error == "Protocol error: expected '$', got '*'"
    assert alone.error is None and alone.buffered == len(b"*200000000\r\n")


def test_a_count_of_eight_digits_goes_to_the_pure_parser_and_seven_stay_with_hiredis() -> None:
    # A read of one request looks at its header's length before it searches for big headers:
    # ten million (eight digits) is the first count the pure parser takes.
    mset = encode([b"MSET", *[b"k", b"v"] * 10])
    parser = RequestParser()
    assert parser.feed(mset) == [[b"MSET", *[b"k", b"v"] * 10]]
    assert parser._pure is None
    tracemalloc.start()
    try:
        for header in (b"*10000000\r\n", b"*10000000\r\n$3\r\nSET\r\n"):
            parser = RequestParser()
            assert parser.feed(header) == []
            assert parser._pure is not None, header
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000  # hiredis would have made a list of 80 MB
    seven = RequestParser()
    assert seven.feed(b"*1000000\r\n$3\r\nSET\r\n") == []
    assert seven._pure is None


def test_a_read_that_ends_between_elements_stays_with_hiredis() -> None:
    # hiredis takes the whole elements of an unfinished request, so its buffer is empty and
    # gets() says "no more data": the read must wait for the rest, not go to the pure parser (a
    # slow path for every large value that arrives in pieces).
    request = encode([b"SET", b"key", b"v" * 100])
    for cut in (4, 13, 22):  # after the header, the name, the key
        assert request[cut - 2 : cut] == b"\r\n"
        parser = RequestParser()
        assert parser.feed(request[:cut]) == []
        assert parser._pure is None, cut
        assert parser.feed(request[cut:]) == [[b"SET", b"key", b"v" * 100]]
