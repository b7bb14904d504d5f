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
        self._histlen = 0
        self._pending: list[bytes] = []  # fed, not yet copied into _buf
        self.offset = offset

    @property
    def histlen(self) -> int:
        self._settle()
        return self._histlen

    @property
    def first_byte_offset(self) -> int:
        return self.offset - self.histlen + 1

    def feed(self, data: bytes) -> None:
        """Called once per propagated write: the copy into the ring waits for the next reader, so
        a batch of writes is copied in one step."""
        self._pending.append(data)
        self.offset += len(data)
        if len(self._pending) >= 1024:  # nobody read for a while: bound what waits
            self._settle()

    def _settle(self) -> None:
        if self._pending:
            pending = self._pending
            self._copy(b"".join(pending) if len(pending) > 1 else pending[0])
            pending.clear()

    def _copy(self, data: bytes) -> None:
        size = len(data)
        if size >= self.size:
            self._buf[:] = data[-self.size :]
            self._write = 0
            self._histlen = self.size
            return
        end = self._write + size
        if end <= self.size:
            self._buf[self._write : end] = data
        else:
            first = self.size - self._write
            self._buf[self._write :] = data[:first]
            self._buf[: size - first] = data[first:]
        self._write = end % self.size
        self._histlen = min(self.size, self._histlen + size)

    def can_serve(self, offset: int) -> bool:
        """True when every byte from offset on is still here (offset may be offset + 1: nothing)."""
        return self.first_byte_offset <= offset <= self.offset + 1

    def read_from(self, offset: int) -> bytes:
        self._settle()
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
