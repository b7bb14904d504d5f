"""Argument parsing shared by the command families."""

from __future__ import annotations

import math

import pytest

from dragonfly_py import errors
from dragonfly_py.commands.util import parse_float


@pytest.mark.parametrize("raw", [b"9" * 400, b"1e400", b"-1e400", b"nan", b" 1", b""])
def test_parse_float_refuses_what_strtod_refuses_or_overflows(raw: bytes) -> None:
    with pytest.raises(type(errors.NOT_FLOAT)):
        parse_float(raw)


@pytest.mark.parametrize(
    ("raw", "value"),
    [(b"007", 7.0), (b"inf", math.inf), (b"-Infinity", -math.inf), (b"+inf", math.inf), (b"1.5e3", 1500.0)],
)
def test_parse_float_reads_strtod_numbers(raw: bytes, value: float) -> None:
    assert parse_float(raw) == value
