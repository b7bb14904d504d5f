"""RESP request parsing and reply encoding; no I/O here."""

from dragonfly_py.protocol.parser import ProtocolError, RequestParser
from dragonfly_py.protocol.resp import encode

__all__ = ["ProtocolError", "RequestParser", "encode"]
