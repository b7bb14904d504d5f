"""Logging through structlog: Redis-like human lines by default, JSON on request.

Logs go to stdout or to ``logfile``; nothing goes to stderr in normal operation.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, TextIO

import structlog

_ROLE = {"value": "M"}  # M master, S replica, X sentinel: the letter Redis puts in each line

_LEVEL_MARK = {"debug": ".", "info": "*", "warning": "#", "error": "#", "critical": "#"}


def set_role_letter(letter: str) -> None:
    _ROLE["value"] = letter


def _redis_line(_: Any, method: str, event: dict[str, Any]) -> str:
    import time

    now = time.time()
    stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now)) + f".{int(now * 1000) % 1000:03d}"
    message = event.pop("event", "")
    event.pop("timestamp", None)
    event.pop("level", None)
    logger = event.pop("subsystem", None)
    extras = " ".join(f"{k}={v}" for k, v in event.items())
    prefix = f"[{logger}] " if logger and logger != "server" else ""
    mark = _LEVEL_MARK.get(method, "*")
    return f"{os.getpid()}:{_ROLE['value']} {stamp} {mark} {prefix}{message}" + (f" ({extras})" if extras else "")


def configure(logfile: str = "", json: bool = False, level: str = "notice") -> None:
    """Set up structlog once at start-up (the server and the sentinel both call it)."""
    stream: TextIO = open(logfile, "a", buffering=1) if logfile else sys.stdout  # noqa: SIM115
    min_level = {"debug": logging.DEBUG, "verbose": logging.DEBUG, "notice": logging.INFO}.get(level, logging.WARNING)
    processors: list[Any] = [structlog.processors.add_log_level]
    if json:
        processors += [
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.JSONRenderer(),
        ]
    else:
        processors.append(_redis_line)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(min_level),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(subsystem=name)
