"""The replication backlog: the last ``size`` bytes of the stream, addressed by absolute offset.

Sans-IO. Offsets follow Redis: the first byte ever fed has offset 1, so after feeding n bytes
``master_repl_offset`` is n and ``first_byte_offset`` is ``offset - histlen + 1``.
"""

from __future__ import annotations


class Backlog:
    def __init__(self, size: int, offset: int) -> None:
        """offset: master_repl_offset at creation; the next byte fed is offset + 1."""
        self.size = max(size, 16 * 1024)
        self._buf = bytearray(self.size)
        self._write = 0  # index where the next byte goes
        self.histlen = 0
        self.offset = offset

    @property
    def first_byte_offset(self) -> int:
        return self.offset - self.histlen + 1

    def feed(self, data: bytes) -> None:
        size = len(data)
        self.offset += size
        if size >= self.size:
            self._buf[:] = data[-self.size :]
            self._write = 0
            self.histlen = self.size
            return
        end = self._write + size
        if end <= self.size:
            self._buf[self._write : end] = data
        else:
            first = self.size - self._write
            self._buf[self._write :] = data[:first]
            self._buf[: size - first] = data[first:]
        self._write = end % self.size
        self.histlen = min(self.size, self.histlen + size)

    def can_serve(self, offset: int) -> bool:
        """True when every byte from offset on is still here (offset may be offset + 1: nothing)."""
        return self.first_byte_offset <= offset <= self.offset + 1

    def read_from(self, offset: int) -> bytes:
        count = self.offset + 1 - offset
        if count <= 0:
            return b""
        start = (self._write - count) % self.size
        if start + count <= self.size:
            return bytes(self._buf[start : start + count])
        return bytes(self._buf[start:]) + bytes(self._buf[: count - (self.size - start)])

    def resize(self, size: int) -> None:
        end = self.offset
        keep = self.read_from(self.first_byte_offset)[-max(size, 16 * 1024) :]
        self.__init__(size, end - len(keep))  # type: ignore[misc]
        self.feed(keep)
