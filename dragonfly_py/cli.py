"""``dragonfly-py [CONFIG_FILE] [--flag value | --flag=value ...]``."""

from __future__ import annotations

import asyncio
import sys

from dragonfly_py import __version__, logs
from dragonfly_py.config import ConfigFileError, load_config


def _event_loop_factory() -> type[asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.Loop


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if "--sentinel" in args:  # like redis-server --sentinel
        from sentinel.cli import main as sentinel_main

        return sentinel_main(args)
    if args and args[0] in ("-v", "--version"):
        print(f"dragonfly-py v={__version__} (Redis 7.0.15 compatible)")
        return 0
    if args and args[0] in ("-h", "--help"):
        print("Usage: dragonfly-py [/path/to/redis.conf] [--port 6380] [--replicaof=host:port] [...]")
        return 0
    config_file = args.pop(0) if args and not args[0].startswith("--") else None
    try:
        config = load_config(config_file, args)
    except ConfigFileError as exc:
        print(exc, file=sys.stderr)
        return 1
    logs.configure(config["logfile"], json=config["log-format"] == "json", level=config["loglevel"])

    from dragonfly_py import commands  # noqa: F401  (fills the command table)
    from dragonfly_py.server.server import Server

    server = Server(config)
    try:
        with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
            return runner.run(server.serve_forever())
    except OSError as exc:
        logs.get_logger("server").error(str(exc))
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
