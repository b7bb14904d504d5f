"""The floor for GET and SET in Python: hiredis and an asyncio.Protocol on uvloop, nothing else.

Not a server: no expiry, no stats, no checks, no error replies. bench/server_cpu.py --bare runs it
beside redis-server and dragonfly-py, so each run shows what this machine's Python costs per
request before any design choice of ours (the issue's target assumes this loop costs ~1.05x
redis-server; how far it is from that here says how far the target is reachable here).

    python3 bench/bare_loop.py PORT
"""

from __future__ import annotations

import asyncio
import sys

import hiredis
import uvloop

NULL = b"$-1\r\n"
OK = b"+OK\r\n"
PONG = b"+PONG\r\n"
# What redis-benchmark asks before it starts (CONFIG GET save / appendonly): an empty value each.
CONFIG_REPLY = b"*2\r\n$4\r\nsave\r\n$0\r\n\r\n"


class BareProtocol(asyncio.Protocol):
    store: dict[bytes, bytes] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.reader = hiredis.Reader()

    def data_received(self, data: bytes) -> None:
        reader, store, replies = self.reader, self.store, []
        reader.feed(data)
        request = reader.gets()
        while request is not False:
            name = request[0].upper()
            if name == b"GET":
                value = store.get(request[1])
                replies.append(NULL if value is None else b"$%d\r\n%b\r\n" % (len(value), value))
            elif name == b"SET":
                store[request[1]] = request[2]
                replies.append(OK)
            elif name == b"CONFIG":
                replies.append(CONFIG_REPLY)
            elif name == b"PING":
                replies.append(PONG)
            else:  # FLUSHALL
                store.clear()
                replies.append(OK)
            request = reader.gets()
        self.transport.write(b"".join(replies))


async def serve(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(BareProtocol, "127.0.0.1", port)
    await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(serve(int(sys.argv[1])))
