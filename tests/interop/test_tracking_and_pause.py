"""CLIENT TRACKING (client-side caching) and CLIENT PAUSE, side by side with real redis-server 7.0:
the same conversation on both servers gives the same replies and the same invalidation messages."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import redis

from tests.helpers import RawConnection, ServerProcess, normal_reply

pytestmark = pytest.mark.interop


def both(real_redis: ServerProcess, dragonfly: ServerProcess, conversation: Callable[[int], object]) -> None:
    real_redis.connect().call("FLUSHALL")
    assert normal_reply(conversation(dragonfly.port)) == normal_reply(conversation(real_redis.port))


def _replies(port: int, *calls: list[object]) -> list[object]:
    conn = RawConnection(port)
    return [conn.call(*call) for call in calls]  # type: ignore[arg-type]


def test_tracking_commands_and_errors(real_redis: ServerProcess, dragonfly: ServerProcess) -> None:
    def conversation(port: int) -> object:
        return _replies(
            port,
            ["CLIENT", "TRACKINGINFO"],
            ["CLIENT", "GETREDIR"],
            ["CLIENT", "CACHING", "yes"],
            ["CLIENT", "TRACKING", "on", "optin", "optout"],
            ["CLIENT", "TRACKING", "on", "redirect", "999999"],
            ["CLIENT", "TRACKING", "on", "redirect", "x"],
            ["CLIENT", "TRACKING", "on", "prefix", "a"],
            ["CLIENT", "TRACKING", "on", "bcast", "optin"],
            ["CLIENT", "TRACKING", "maybe"],
            ["CLIENT", "TRACKING", "on", "nosuch"],
            ["CLIENT", "TRACKING", "on", "optin", "noloop"],
            ["CLIENT", "TRACKINGINFO"],
            ["CLIENT", "GETREDIR"],
            ["CLIENT", "CACHING", "no"],
            ["CLIENT", "CACHING", "maybe"],
            ["CLIENT", "CACHING", "yes"],
            ["CLIENT", "TRACKINGINFO"],
            ["CLIENT", "TRACKING", "on", "optout"],
            ["CLIENT", "TRACKING", "on", "bcast"],
            ["CLIENT", "TRACKING", "off"],
            ["CLIENT", "TRACKING", "on", "bcast", "prefix", "ab", "prefix", "a"],
            ["CLIENT", "TRACKING", "on", "bcast", "prefix", "user:", "prefix", "job:"],
            ["CLIENT", "TRACKING", "on", "bcast", "prefix", "user:1"],
            ["CLIENT", "TRACKINGINFO"],
            ["CLIENT", "PAUSE", "abc"],
            ["CLIENT", "PAUSE", "-1"],
            ["CLIENT", "PAUSE", "10", "sometimes"],
            ["CLIENT", "UNPAUSE"],
            ["CLIENT", "HELP"],
        )

    both(real_redis, dragonfly, conversation)


def test_invalidation_messages(real_redis: ServerProcess, dragonfly: ServerProcess) -> None:
    """RESP3 pushes, REDIRECT to a RESP2 subscriber, NOLOOP, OPTIN, BCAST prefixes and FLUSHALL."""

    def conversation(port: int) -> object:
        seen = []
        cache = RawConnection(port)
        cache.call("HELLO", "3")
        listener = RawConnection(port)
        listener_id = listener.call("CLIENT", "ID")
        seen.append(listener.call("SUBSCRIBE", "__redis__:invalidate"))
        writer = RawConnection(port)
        seen.append(cache.call("CLIENT", "TRACKING", "on"))
        seen.append(cache.call("GET", "k1"))
        seen.append(cache.call("MGET", "k2", "k3"))
        writer.call("SET", "k1", "v")
        writer.call("SET", "k3", "x")
        seen.append(cache.read())  # invalidate [k1]
        seen.append(cache.read())  # invalidate [k3]
        writer.call("SET", "k1", "again")  # not read since: no message
        seen.append(cache.call("PING"))
        # REDIRECT to a RESP2 client subscribed to __redis__:invalidate, in OPTIN mode.
        redirected = RawConnection(port)
        seen.append(redirected.call("CLIENT", "TRACKING", "on", "redirect", listener_id, "optin"))
        seen.append(redirected.call("GET", "k1"))  # not cached: no CACHING yes
        seen.append(redirected.call("CLIENT", "CACHING", "yes"))
        seen.append(redirected.call("GET", "k2"))
        writer.call("SET", "k1", "x")
        writer.call("SET", "k2", "x")
        seen.append(listener.read())  # message __redis__:invalidate [k2]
        # NOLOOP: the client's own writes are not announced to it; BCAST by prefix.
        loop = RawConnection(port)
        loop.call("HELLO", "3")
        seen.append(loop.call("CLIENT", "TRACKING", "on", "bcast", "prefix", "user:", "noloop"))
        seen.append(loop.call("SET", "user:1", "mine"))
        writer.call("SET", "user:2", "theirs")
        writer.call("SET", "other", "x")
        seen.append(loop.read())  # invalidate [user:2]
        seen.append(cache.call("GET", "k1"))  # the invalidate [k2] push sent earlier comes first
        seen.append(cache.read())  # then GET's reply: read before FLUSHALL, or the two race
        writer.call("FLUSHALL")
        seen.append(cache.read())  # invalidate null
        seen.append(loop.read())
        seen.append(listener.read())
        info = writer.call("INFO", "clients")
        seen.append([line for line in info.split(b"\r\n") if line.startswith(b"tracking_clients")])  # type: ignore[union-attr]
        return seen

    both(real_redis, dragonfly, conversation)


def test_a_clients_own_write_is_announced_after_its_reply(real_redis: ServerProcess, dragonfly: ServerProcess) -> None:
    """A tracking client that changes a key it read hears of it after the reply of the command
    that changed it (after EXEC's, in a transaction), as Redis 7.0 orders them."""

    def conversation(port: int) -> object:
        cache = RawConnection(port)
        cache.call("HELLO", "3")
        cache.call("CLIENT", "TRACKING", "on")
        seen = []
        for key in ("own:a", "own:b", "own:d", "own:e"):
            cache.call("GET", key)
        for requests, pushes in (
            ([["SET", "own:a", "1"]], 1),
            ([["SET", "own:b", "1"], ["GET", "own:b"], ["DEL", "own:b"], ["PING"]], 2),
            ([["MULTI"], ["SET", "own:d", "1"], ["INCR", "own:e"], ["EXEC"], ["PING"]], 2),
            ([["GET", "own:a"], ["FLUSHDB"], ["PING"]], 1),
        ):
            cache.send_raw(b"".join(cache.encode(request) for request in requests))
            seen.append([cache.read() for _ in range(len(requests) + pushes)])
        return seen

    both(real_redis, dragonfly, conversation)


def test_reads_with_movable_keys_are_tracked(real_redis: ServerProcess, dragonfly: ServerProcess) -> None:
    """Keys a read names by a count (ZUNION, SINTERCARD) or after a keyword (XREAD STREAMS) are
    remembered as Redis finds them through its key specs: a write to each is announced."""

    def conversation(port: int) -> object:
        cache, writer = RawConnection(port), RawConnection(port)
        cache.call("HELLO", "3")
        seen = [cache.call("CLIENT", "TRACKING", "on")]
        seen.append(cache.call("ZUNION", "2", "mk:z1", "mk:z2", "WEIGHTS", "1", "2"))
        seen.append(cache.call("SINTERCARD", "1", "mk:s1", "LIMIT", "5"))
        seen.append(cache.call("XREAD", "COUNT", "1", "STREAMS", "mk:x1", "mk:x2", "0", "0"))
        for key, write in (
            ("mk:z2", ["ZADD", "mk:z2", "1", "m"]),
            ("mk:s1", ["SADD", "mk:s1", "m"]),
            ("mk:x2", ["XADD", "mk:x2", "1-1", "f", "v"]),
            ("mk:z1", ["ZADD", "mk:z1", "1", "m"]),
        ):
            writer.call(*write)
            seen.append((key, cache.read()))
        writer.call("SET", "mk:x1", "v")  # the invalidation of a key read once comes once
        writer.call("SET", "mk:x1", "again")
        seen.append(cache.read())
        seen.append(cache.call("PING"))
        return seen

    both(real_redis, dragonfly, conversation)


def test_flushes_invalidate_once(real_redis: ServerProcess, dragonfly: ServerProcess) -> None:
    """FLUSHALL over several databases sends one null invalidation; FLUSHDB of an empty db one too."""

    def conversation(port: int) -> object:
        cache, writer = RawConnection(port), RawConnection(port)
        cache.call("HELLO", "3")
        replies = [cache.call("CLIENT", "TRACKING", "on")]
        for db, key in ((2, "x"), (3, "y")):
            writer.call("SELECT", db)
            writer.call("SET", key, "1")
        replies += [writer.call("FLUSHALL"), cache.read(), cache.call("PING")]
        writer.call("SELECT", 5)
        replies += [writer.call("FLUSHDB"), cache.read(), cache.call("PING")]
        return replies

    both(real_redis, dragonfly, conversation)


def test_optin_caching_covers_a_whole_transaction(real_redis: ServerProcess, dragonfly: ServerProcess) -> None:
    def conversation(port: int) -> object:
        cache, writer = RawConnection(port), RawConnection(port)
        cache.call("HELLO", "3")
        replies = [cache.call("CLIENT", "TRACKING", "on", "optin"), cache.call("CLIENT", "CACHING", "yes")]
        replies += [cache.call("MULTI"), cache.call("GET", "a"), cache.call("GET", "b"), cache.call("EXEC")]
        replies.append(cache.call("GET", "c"))  # CACHING yes was used up by the transaction
        writer.call("MSET", "a", "1", "b", "2", "c", "3")
        replies += [cache.read(), cache.read(), cache.call("PING")]
        return replies

    both(real_redis, dragonfly, conversation)


@pytest.mark.parametrize("mode", ["WRITE", "ALL"])
def test_pause_holds_commands_until_unpause(real_redis: ServerProcess, dragonfly: ServerProcess, mode: str) -> None:
    def conversation(port: int) -> object:
        admin, other = RawConnection(port), RawConnection(port)
        assert admin.call("CLIENT", "PAUSE", "700", mode) == b"OK"
        other.send_raw(RawConnection.encode(["SET", "k", "v"]) + RawConnection.encode(["GET", "k"]))
        held = other_answers_within(other, 0.3)
        if mode == "WRITE":  # reads go on; with ALL everyone waits, an UNPAUSE too, until the end
            reader = RawConnection(port)
            assert reader.call("GET", "k") is None
            reader.call("CLIENT", "UNPAUSE")
        return [held, other.read(), other.read()]

    both(real_redis, dragonfly, conversation)


def other_answers_within(conn: RawConnection, seconds: float) -> bool:
    conn.sock.settimeout(seconds)
    try:
        data = conn.sock.recv(1 << 16)
    except TimeoutError:
        return False
    finally:
        conn.sock.settimeout(10)
    conn.reader.feed(data)
    return True


def test_pause_ends_by_itself(dragonfly: ServerProcess) -> None:
    client = redis.Redis(port=dragonfly.port)
    client.client_pause(200, all=True)
    started = time.monotonic()
    done = threading.Event()
    threading.Thread(target=lambda: (redis.Redis(port=dragonfly.port).set("k", 1), done.set()), daemon=True).start()
    assert done.wait(5)
    assert 0.1 < time.monotonic() - started < 2
