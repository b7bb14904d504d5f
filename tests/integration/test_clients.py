"""dragonfly-py through redis-py (RESP2 and RESP3) and raw sockets."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import redis

from tests.helpers import RawConnection, ServerProcess, start_dragonfly, wait_for


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def r(request: pytest.FixtureRequest, shared_dragonfly: ServerProcess) -> redis.Redis:
    client = redis.Redis(port=shared_dragonfly.port, protocol=request.param)
    client.flushall()
    yield client
    client.close()


def test_basic_types_through_redis_py(r: redis.Redis) -> None:
    assert r.set("a", "1") is True
    assert r.get("a") == b"1"
    r.hset("h", mapping={"f": "v", "g": "w"})
    assert r.hgetall("h") == {b"f": b"v", b"g": b"w"}
    r.zadd("z", {"a": 1.5, "b": 2})
    assert [tuple(p) for p in r.zrange("z", 0, -1, withscores=True)] == [(b"a", 1.5), (b"b", 2.0)]
    assert r.zscore("z", "a") == 1.5
    r.sadd("s", "x", "y")
    assert r.smembers("s") == {b"x", b"y"}
    assert r.incrbyfloat("f", 0.1) == pytest.approx(0.1)


def test_random_members_come_from_all_over_the_set(r: redis.Redis) -> None:
    members = [b"m%04d" % i for i in range(1000)]
    r.sadd("s", *members)
    changes = r.info("persistence")["rdb_changes_since_last_save"]
    with r.pipeline(transaction=False) as pipe:  # one read of SPOPs: run as one call
        for _ in range(400):
            pipe.spop("s")
        popped = pipe.execute()
    assert r.info("persistence")["rdb_changes_since_last_save"] == changes + 400  # a change a pop
    popped += [r.spop("s") for _ in range(100)] + r.spop("s", 600)
    assert sorted(popped) == members  # each member once, then the key is gone
    assert r.exists("s") == 0
    assert popped != members and popped != members[::-1]  # not in the order they came
    r.sadd("s", "a", "b", "c")
    r.zadd("z", {"a": 1, "b": 2, "c": 3})
    # Each of 3 members is left out of 300 draws with a chance of 3 * (2/3)**300, about 1e-52.
    assert {r.srandmember("s") for _ in range(300)} == {b"a", b"b", b"c"}
    assert {r.zrandmember("z") for _ in range(300)} == {b"a", b"b", b"c"}
    r.hset("h", mapping={"a": 1, "b": 2, "c": 3})
    assert {r.hrandfield("h") for _ in range(300)} == {b"a", b"b", b"c"}
    first_pops = set()
    for _ in range(300):
        first_pops.add(r.spop("s"))
        r.sadd("s", *first_pops)
    assert first_pops == {b"a", b"b", b"c"}


def test_pipeline_and_transaction(r: redis.Redis) -> None:
    pipe = r.pipeline(transaction=True)
    pipe.set("k", 1).incr("k").get("k")
    assert pipe.execute() == [True, 2, b"2"]
    pipe = r.pipeline(transaction=False)
    for i in range(500):
        pipe.set(f"key{i}", i)
    assert all(pipe.execute())
    assert r.dbsize() == 501


def test_watch_from_another_client_aborts_exec(r: redis.Redis, shared_dragonfly: ServerProcess) -> None:
    other = redis.Redis(port=shared_dragonfly.port)
    r.set("w", 1)
    with r.pipeline() as pipe:
        pipe.watch("w")
        other.set("w", 2)
        pipe.multi()
        pipe.set("w", 3)
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert r.get("w") == b"2"
    other.close()


def test_pubsub_messages(r: redis.Redis) -> None:
    pubsub = r.pubsub()
    pubsub.subscribe("news")
    pubsub.psubscribe("n*")
    wait_for(lambda: r.pubsub_numsub("news")[0][1] == 1)
    assert r.publish("news", "hello") == 2
    messages = []
    wait_for(lambda: messages.append(pubsub.get_message(timeout=0.1)) or len([m for m in messages if m]) >= 4)
    data = [(m["type"], m["data"]) for m in messages if m]
    assert ("message", b"hello") in data and ("pmessage", b"hello") in data
    pubsub.close()


def test_blpop_is_served_by_a_later_push(r: redis.Redis, shared_dragonfly: ServerProcess) -> None:
    result: list[object] = []
    blocker = redis.Redis(port=shared_dragonfly.port)
    thread = threading.Thread(target=lambda: result.append(blocker.blpop(["q1", "q2"], timeout=5)))
    thread.start()
    wait_for(lambda: r.info("clients")["blocked_clients"] == 1)
    r.rpush("q2", "x")
    thread.join(5)
    assert result and tuple(result[0]) == (b"q2", b"x")
    assert r.exists("q2") == 0
    blocker.close()


def test_blocking_timeout_and_unblock(r: redis.Redis, shared_dragonfly: ServerProcess) -> None:
    started = time.monotonic()
    assert r.blpop(["nothing"], timeout=0.2) is None
    assert time.monotonic() - started >= 0.15
    blocker = redis.Redis(port=shared_dragonfly.port)
    blocker_id = blocker.client_id()
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(blocker.brpop(["nothing"], timeout=0)))
    thread.start()
    wait_for(lambda: r.client_unblock(blocker_id) == 1)
    thread.join(5)
    assert result == [None]
    blocker.close()


def test_requests_behind_a_blocked_one_wait(shared_dragonfly: ServerProcess) -> None:
    conn = shared_dragonfly.connect()
    conn.send_raw(conn.encode(["BLPOP", "pending-q", "5"]) + conn.encode(["PING"]))
    other = shared_dragonfly.connect()
    wait_for(lambda: b"blocked_clients:1" in other.call("INFO", "clients"))
    other.call("LPUSH", "pending-q", "v")
    assert conn.read() == [b"pending-q", b"v"]
    assert conn.read() == b"PONG"
    conn.close()
    other.close()


def test_a_read_behind_a_blocked_request_waits(shared_dragonfly: ServerProcess) -> None:
    """A later read of one plain command (the one-request path) waits for the blocked one too.
    Nothing but that connection's reads runs in between: any other command would make the
    connection recheck its state anyway."""
    conn = shared_dragonfly.connect()
    assert conn.call("SET", "behind-blocked", "x") == b"OK"  # the connection's reads take the fast path
    conn.send_raw(conn.encode(["BLPOP", "pending-q2", "5"]))
    time.sleep(0.2)  # spacing, not a wait: the next request comes as a read of its own
    conn.send_raw(conn.encode(["GET", "behind-blocked"]))
    time.sleep(0.2)
    conn.send_raw(conn.encode(["APPEND", "behind-blocked", "y"]))
    other = shared_dragonfly.connect()
    wait_for(lambda: b"blocked_clients:1" in other.call("INFO", "clients"))
    other.call("LPUSH", "pending-q2", "v")
    assert conn.read() == [b"pending-q2", b"v"]
    assert conn.read() == b"x"
    assert conn.read() == 2
    assert conn.call("GET", "behind-blocked") == b"xy"
    conn.close()
    other.close()


def test_protocol_error_closes_only_that_connection(shared_dragonfly: ServerProcess) -> None:
    good = shared_dragonfly.connect()
    bad = shared_dragonfly.connect()
    bad.send_raw(b"*1\r\n$4\r\nPING\r\n*1\r\n:5\r\n")
    assert bad.read() == b"PONG"
    error = bad.read()
    assert isinstance(error, Exception) and str(error) == "ERR Protocol error: expected '$', got ':'"
    assert bad.closed_by_server()
    assert good.call("PING") == b"PONG"
    good.close()


def test_inline_commands_and_quoting(shared_dragonfly: ServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", shared_dragonfly.port)) as sock:
        sock.sendall(b'PING\r\nSET inline "hello world"\r\nGET inline\r\n')
        data = b""
        while data.count(b"\r\n") < 4:
            data += sock.recv(1024)
        assert data == b"+PONG\r\n+OK\r\n$11\r\nhello world\r\n"


def test_client_kill_inside_multi_like_sentinel(shared_dragonfly: ServerProcess) -> None:
    victim = shared_dragonfly.connect()
    assert victim.call("PING") == b"PONG"
    admin = shared_dragonfly.connect()
    for command in (
        ["MULTI"],
        ["SET", "promoted", "1"],
        ["CONFIG", "REWRITE"],
        ["CLIENT", "KILL", "TYPE", "normal"],
        ["CLIENT", "KILL", "TYPE", "pubsub"],
    ):
        assert admin.call(*command) in (b"OK", b"QUEUED")
    replies = admin.call("EXEC")
    assert replies[0] == b"OK"
    assert isinstance(replies[1], Exception)  # no config file: a runtime error, the rest still runs
    assert replies[2] >= 1
    assert victim.closed_by_server()
    assert admin.call("GET", "promoted") == b"1"
    admin.close()


def test_client_list_and_setname(shared_dragonfly: ServerProcess) -> None:
    r = redis.Redis(port=shared_dragonfly.port, client_name="worker-1")
    entries = r.client_list()
    mine = [c for c in entries if c["name"] == "worker-1"]
    assert mine and mine[0]["cmd"] == "client|list"
    assert r.client_getname() in ("worker-1", b"worker-1")
    r.close()


def test_idle_time_and_timeout_follow_the_last_command(tmp_path) -> None:
    server = start_dragonfly(tmp_path, "--timeout", "1")
    try:
        idle, busy = server.connect(), server.connect()
        idle.call("CLIENT", "SETNAME", "idle")
        busy.call("CLIENT", "SETNAME", "busy")
        start = time.monotonic()
        while time.monotonic() - start < 1.5:  # busy keeps talking, idle says nothing
            busy.call("SET", "k", "v")  # through the one-request lane (data_received)
            busy.call("MGET", "k", "k")  # through run()
            time.sleep(0.2)
        admin = redis.Redis(port=server.port)
        entries = {entry["name"]: entry for entry in admin.client_list()}
        assert int(entries["busy"]["idle"]) == 0
        assert "idle" not in entries or int(entries["idle"]["idle"]) >= 1
        wait_for(lambda: "idle" not in {entry["name"] for entry in admin.client_list()}, timeout=5)
        assert busy.call("GET", "k") == b"v"  # the busy one was kept
        admin.close()
        busy.close()
        idle.close()
    finally:
        server.stop()


def test_active_expiry_reclaims_without_access(shared_dragonfly: ServerProcess) -> None:
    r = redis.Redis(port=shared_dragonfly.port, db=5)
    r.flushdb()
    pipe = r.pipeline(transaction=False)
    for i in range(200):
        pipe.set(f"e{i}", "v", px=50)
    pipe.execute()
    assert r.dbsize() == 200
    wait_for(lambda: r.dbsize() == 0, timeout=5)
    assert r.info("stats")["expired_keys"] >= 200
    r.close()


def test_requirepass(tmp_path) -> None:
    server = start_dragonfly(tmp_path, "--requirepass", "s3cret")
    try:
        conn = server.connect()
        error = conn.call("GET", "a")
        assert str(error) == "NOAUTH Authentication required."
        assert str(conn.call("AUTH", "wrong")) == "WRONGPASS invalid username-password pair or user is disabled."
        assert conn.call("AUTH", "s3cret") == b"OK"
        assert conn.call("SET", "a", "1") == b"OK"
        conn.close()
        r = redis.Redis(port=server.port, password="s3cret", protocol=3)
        assert r.get("a") == b"1"
        r.close()
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("limit", "least_seconds"),
    [("pubsub 64kb 32kb 1", 0.0), ("pubsub 0 32kb 1", 0.9)],
    ids=["hard", "soft-after-its-seconds"],
)
def test_pubsub_output_buffer_limit_disconnects_slow_subscriber(tmp_path, limit: str, least_seconds: float) -> None:
    server = start_dragonfly(tmp_path, "--client-output-buffer-limit", limit)
    try:
        slow = server.connect()
        slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.call("SUBSCRIBE", "flood")
        publisher = redis.Redis(port=server.port)
        payload = b"x" * 16384
        backlog_since: list[float] = []

        def dropped() -> bool:
            receivers = publisher.publish("flood", payload)
            if not backlog_since and receivers and publisher.client_list(_type="pubsub")[0]["omem"] != "0":
                backlog_since.append(time.monotonic())  # the socket stopped taking it all
            return receivers == 0

        wait_for(dropped, timeout=20, interval=0)
        assert backlog_since and time.monotonic() - backlog_since[0] >= least_seconds
        assert publisher.info("stats")["client_output_buffer_limit_disconnections"] == 1
        publisher.close()
        slow.close()
    finally:
        server.stop()


def test_a_reply_written_at_once_is_held_to_the_normal_output_limit(tmp_path) -> None:
    # A read of one GET writes its reply at once (not at the end of the loop's pass); what the
    # socket does not take must still count against the limit, with no later write to check it.
    server = start_dragonfly(tmp_path, "--client-output-buffer-limit", "normal 1mb 0 0")
    try:
        r = redis.Redis(port=server.port)
        r.set("big", b"x" * (16 * 1024 * 1024))
        reader = server.connect()
        reader.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        assert reader.call("PING") == b"PONG"  # a connection's first read sets up its direct commands
        reader.send_raw(RawConnection.encode(["GET", "big"]))  # and never reads the reply
        wait_for(lambda: r.info("stats")["client_output_buffer_limit_disconnections"] == 1, timeout=10)
        assert r.dbsize() == 1
        reader.close()
        r.close()
    finally:
        server.stop()


def test_maxclients(tmp_path) -> None:
    server = start_dragonfly(tmp_path, "--maxclients", "2")
    try:
        keep = [server.connect() for _ in range(2)]
        for conn in keep:
            conn.call("PING")
        extra = RawConnection(server.port)
        assert str(extra.read()) == "ERR max number of clients reached"
        for conn in keep:
            conn.close()
    finally:
        server.stop()


def test_latencystats_percentiles_follow_the_calls(tmp_path) -> None:
    server = start_dragonfly(tmp_path, "--enable-debug-command", "yes")
    try:
        client = redis.Redis(port=server.port)
        for seconds in (0.05, 0.05, 0.05, 0.2):
            client.execute_command("DEBUG", "SLEEP", seconds)
        stats = client.info("latencystats")["latency_percentiles_usec_debug"]
        assert 50_000 <= stats["p50"] <= 60_000  # the bucket bound above a 50 ms call
        assert 200_000 <= stats["p99"] <= stats["p99.9"] <= 220_000
        client.config_set("latency-tracking", "no")
        client.execute_command("DEBUG", "SLEEP", 0.3)
        assert client.info("latencystats")["latency_percentiles_usec_debug"] == stats
        client.config_resetstat()
        assert client.info("latencystats") == {}
        client.config_set("latency-tracking", "yes")
        with client.pipeline(transaction=False) as pipe:  # one read of 20 GETs: timed as a whole
            for i in range(20):
                pipe.get(f"k{i}")
            pipe.execute()
        assert client.info("commandstats")["cmdstat_get"]["calls"] == 20
        assert client.info("latencystats")["latency_percentiles_usec_get"]["p50"] > 0
        client.config_resetstat()
        assert "latency_percentiles_usec_get" not in client.info("latencystats")
        client.close()
    finally:
        server.stop()


def test_recent_max_input_buffer_shows_a_pending_request(shared_dragonfly: ServerProcess) -> None:
    conn = shared_dragonfly.connect()
    try:
        conn.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$200000\r\n" + b"x" * 100_000)  # half a value
        client = redis.Redis(port=shared_dragonfly.port)
        wait_for(lambda: client.info("clients")["client_recent_max_input_buffer"] >= 100_000, timeout=5)
        client.close()
    finally:
        conn.close()


def test_monitor_sees_a_client_that_was_already_running_commands(shared_dragonfly: ServerProcess) -> None:
    # The worker's connection has taken the path without per-command checks before MONITOR
    # starts: it must see that a monitor now needs each of its commands.
    worker, monitor = RawConnection(shared_dragonfly.port), RawConnection(shared_dragonfly.port)
    try:
        worker.send_raw(RawConnection.encode(["SET", "mon:k", "1"]) + RawConnection.encode(["GET", "mon:k"]))
        assert [worker.read(), worker.read()] == [b"OK", b"1"]
        assert monitor.call("MONITOR") == b"OK"
        worker.send_raw(RawConnection.encode(["GET", "mon:k"]) + RawConnection.encode(["INCR", "mon:n"]))
        assert [worker.read(), worker.read()] == [b"1", 1]
        lines = [monitor.read(), monitor.read()]
        assert lines[0].endswith(b'"GET" "mon:k"') and lines[1].endswith(b'"INCR" "mon:n"'), lines
    finally:
        worker.close()
        monitor.close()
