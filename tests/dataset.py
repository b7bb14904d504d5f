"""A mixed dataset written through commands, and a comparable read-back of a whole server.

Used wherever two servers must hold the same data: RDB files crossing between redis-server and
dragonfly-py, and replication.
"""

from __future__ import annotations

import random
from typing import Any

import redis


def fill(client: redis.Redis, seed: int = 7, scale: int = 1) -> None:
    """Every type in small and large encodings, expiries, several databases, binary and empty
    values, a huge string, streams with consumer groups."""
    rng = random.Random(seed)
    pipe = client.pipeline(transaction=False)
    pipe.set(b"empty", b"")
    pipe.set(b"int", b"12345")
    pipe.set(b"bigint", b"12345678901234")
    pipe.set(b"negative", b"-7")
    pipe.set(b"compressible", b"a" * 500)
    pipe.set(b"huge", bytes(rng.getrandbits(8) for _ in range(1 << 16)) * 16)
    pipe.set(b"bin\x00key\xff", b"\x00\x01\x02\xfe\xff")
    pipe.set(b"volatile", b"v", px=3_600_000)
    pipe.rpush(b"list:small", b"a", b"1", b"-2", b"x" * 70)
    pipe.rpush(b"list:big", *[b"item-%d" % i for i in range(3000 * scale)])
    pipe.sadd(b"set:int", *range(1, 100))
    pipe.sadd(b"set:bigint", *range(10**12, 10**12 + 600))
    pipe.sadd(b"set:str", *[b"m%d" % i for i in range(50)])
    pipe.hset(b"hash:small", mapping={b"f1": b"v1", b"f2": b"2", b"f3": b""})
    pipe.hset(b"hash:big", mapping={b"f%d" % i: b"v%d" % i for i in range(1000 * scale)})
    pipe.hset(b"hash:longvalue", mapping={b"f": b"x" * 100})
    pipe.zadd(b"zset:small", {b"a": 1, b"b": 2.5, b"c": -3, b"d": float("inf")})
    pipe.zadd(b"zset:big", {b"m%d" % i: i / 7 for i in range(500 * scale)})
    pipe.zadd(b"zset:longmember", {b"y" * 100: 1})
    pipe.pexpire(b"hash:big", 7_200_000)
    for i in range(30):
        pipe.xadd(b"stream", {b"f": b"%d" % i, b"g": b"x" * (i % 3)}, id=b"%d-%d" % (1000 + i, i % 2))
    for i in range(250):
        pipe.xadd(b"stream:big", {b"n": b"%d" % i}, id=b"%d-0" % (5000 + i))
    pipe.xgroup_create(b"stream", b"readers", id=b"0")
    pipe.xgroup_create(b"stream", b"idle", id=b"$")
    pipe.xreadgroup(b"readers", b"alice", {b"stream": b">"}, count=5)
    pipe.xreadgroup(b"readers", b"bob", {b"stream": b">"}, count=3)
    pipe.xack(b"stream", b"readers", b"1000-0")
    pipe.xdel(b"stream", b"1010-0")
    pipe.xgroup_create(b"stream:empty", b"g", id=b"$", mkstream=True)
    pipe.execute()
    for db in (1, 15):
        other = redis.Redis(port=client.connection_pool.connection_kwargs["port"], db=db)
        other.set(b"in-db-%d" % db, b"yes")
        other.rpush(b"list", b"a")
        other.close()


def read_all(port: int, databases: int = 16) -> dict[int, dict[bytes, Any]]:
    """Every key of every database as (type, value, absolute expiry in ms)."""
    out: dict[int, dict[bytes, Any]] = {}
    for db in range(databases):
        client = redis.Redis(port=port, db=db)
        try:
            keys = client.keys(b"*")
            if keys:
                out[db] = {key: (*_value(client, key), client.pexpiretime(key)) for key in keys}
        finally:
            client.close()
    return out


def _value(client: redis.Redis, key: bytes) -> tuple[str, Any]:
    kind = client.type(key).decode()
    if kind == "string":
        return kind, client.get(key)
    if kind == "list":
        return kind, client.lrange(key, 0, -1)
    if kind == "set":
        return kind, sorted(client.smembers(key))
    if kind == "hash":
        return kind, client.hgetall(key)
    if kind == "zset":
        return kind, client.zrange(key, 0, -1, withscores=True)
    if kind == "stream":
        groups = []
        for group in client.xinfo_groups(key):
            name = group["name"]
            pending = [
                (p["message_id"], p["consumer"], p["times_delivered"])
                for p in client.xpending_range(key, name, min="-", max="+", count=1000)
            ]
            consumers = sorted((c["name"], c["pending"]) for c in client.xinfo_consumers(key, name))
            groups.append((name, group["last-delivered-id"], group["entries-read"], pending, consumers))
        info = client.xinfo_stream(key)
        meta = (info["last-generated-id"], info["max-deleted-entry-id"], info["entries-added"])
        return kind, (client.xrange(key), meta, sorted(groups))
    raise AssertionError(f"unexpected type {kind}")
