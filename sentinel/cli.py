"""``dragonfly-py-sentinel SENTINEL_CONF [--flag value ...]`` (also ``dragonfly-py --sentinel``)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

from dragonfly_py import logs
from dragonfly_py.config import ConfigFileError, load_config
from dragonfly_py.server.server import Server
from sentinel.commands import build_table
from sentinel.config import check_writable, load_sentinel_directives, rewrite_file
from sentinel.monitor import Sentinel

DEFAULT_PORT = "26379"


def main(argv: list[str] | None = None) -> int:
    args = [a for a in (sys.argv[1:] if argv is None else argv) if a != "--sentinel"]
    if not args or args[0].startswith("--"):
        print("Sentinel needs config file on disk to save state. Exiting...", file=sys.stderr)
        return 1
    path = Path(args[0]).resolve()
    sentinel = Sentinel()
    try:
        check_writable(path)
        config = load_config(str(path), args[1:])
        port_flag = any(a == "--port" or a.startswith("--port=") for a in args[1:])
        if not port_flag and not any(line.name == "port" for line in config.file_lines):
            config.set("port", DEFAULT_PORT)
        sentinel.port = config["port"]
        sentinel.requirepass = config["requirepass"]
        load_sentinel_directives(sentinel, path)
    except ConfigFileError as exc:
        print(exc, file=sys.stderr)
        return 1
    logs.configure(config["logfile"], json=config["log-format"] == "json", level=config["loglevel"])
    logs.set_role_letter("X")
    server = Server(config)
    server.mode = "sentinel"
    server.commands = build_table()
    server.sentinel = sentinel  # type: ignore[attr-defined]

    def publish(channel: str, message: str) -> None:
        server.publish(channel.encode(), message.encode())
        server.flush_pending()

    sentinel.publish = publish
    sentinel.save_config = lambda: rewrite_file(sentinel, path, server.users.lines())
    try:
        with asyncio.Runner() as runner:
            return runner.run(serve(server, sentinel))
    except OSError as exc:
        logs.get_logger("sentinel").error(str(exc))
        return 1


async def serve(server: Server, sentinel: Sentinel) -> int:
    await server.start()
    server.install_signal_handlers()
    sentinel.ensure_myid()
    for master in sentinel.masters.values():
        sentinel.event("warning", "+monitor", master, f"quorum {master.quorum}")
    timer = asyncio.get_running_loop().create_task(_timer(server, sentinel))
    sentinel.log.info("Sentinel ready", port=server.config["port"], myid=sentinel.myid)
    assert server.shutdown_event is not None
    await server.shutdown_event.wait()
    timer.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await timer
    sentinel.close_links()
    await server.stop()
    return 0


async def _timer(server: Server, sentinel: Sentinel) -> None:
    while True:
        try:
            sentinel.tick()
        except Exception:  # a bug in one tick must not stop monitoring
            sentinel.log.exception("Sentinel tick failed")
        server.flush_pending()
        await asyncio.sleep(sentinel.next_tick_delay())


if __name__ == "__main__":
    raise SystemExit(main())
