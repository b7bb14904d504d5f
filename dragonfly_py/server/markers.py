"""What a command returns when it has no reply to send now (a leaf module: the replication
feed and the connection compare against these without importing the client)."""

from __future__ import annotations


class _NoReply:
    """A command that answers later (blocked) or never (CLIENT REPLY OFF)."""

    __slots__ = ()


NO_REPLY = _NoReply()
BLOCKED = _NoReply()
PAUSED = _NoReply()  # held by CLIENT PAUSE: the connection runs it again when the pause ends
