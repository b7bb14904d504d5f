"""Redis 7.0's error texts, verbatim: clients map the prefixes to exceptions."""

from dragonfly_py.protocol.resp import ReplyError

WRONGTYPE = ReplyError("WRONGTYPE Operation against a key holding the wrong kind of value")
SYNTAX = ReplyError("ERR syntax error")
NOT_INTEGER = ReplyError("ERR value is not an integer or out of range")
NOT_FLOAT = ReplyError("ERR value is not a valid float")
NO_SUCH_KEY = ReplyError("ERR no such key")
OVERFLOW = ReplyError("ERR increment or decrement would overflow")
NOAUTH = ReplyError("NOAUTH Authentication required.")
WRONGPASS = ReplyError("WRONGPASS invalid username-password pair or user is disabled.")
EXECABORT = ReplyError("EXECABORT Transaction discarded because of previous errors.")
READONLY = ReplyError("READONLY You can't write against a read only replica.")
LOADING = ReplyError("LOADING Redis is loading the dataset in memory")
READONLY = ReplyError("READONLY You can't write against a read only replica.")
MASTERDOWN = ReplyError("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")
NOREPLICAS = ReplyError("NOREPLICAS Not enough good replicas to write.")
SHUTDOWN_IN_PROGRESS = ReplyError("ERR Errors trying to SHUTDOWN: the server is shutting down, writes are paused.")
MISCONF = ReplyError(
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. "
    "Commands that may modify the data set are disabled, because this instance is configured to report errors "
    "during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs "
    "for details about the RDB error."
)
DB_INDEX_OUT_OF_RANGE = ReplyError("ERR DB index is out of range")
INVALID_EXPIRE = "ERR invalid expire time in '{}' command"
OUT_OF_RANGE = ReplyError("ERR index out of range")
NO_CONFIG_FILE = ReplyError("ERR The server is running without a config file")
TIMEOUT_NOT_FLOAT = ReplyError("ERR timeout is not a float or out of range")
TIMEOUT_NEGATIVE = ReplyError("ERR timeout is negative")
MIN_MAX_NOT_FLOAT = ReplyError("ERR min or max is not a float")
MIN_MAX_NOT_STRING = ReplyError("ERR min or max not valid string range item")
STRING_TOO_LONG = ReplyError("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
HASH_VALUE_NOT_INTEGER = ReplyError("ERR hash value is not an integer")
HASH_VALUE_NOT_FLOAT = ReplyError("ERR hash value is not a float")
NAN_OR_INF = ReplyError("ERR increment would produce NaN or Infinity")
SCORE_NAN = ReplyError("ERR resulting score is not a number (NaN)")


def protected_command(name: str, directive: str) -> ReplyError:
    return ReplyError(
        f'ERR {name.upper()} command not allowed. If the {directive} option is set to "local", you can run it'
        " from a local connection, otherwise you need to set this option in the configuration file, and then"
        " restart the server."
    )


def subcommand_syntax(name: bytes, command: str) -> ReplyError:
    """Redis's addReplySubcommandSyntaxError, of a command that reads its own subcommands."""
    return ReplyError(
        f"ERR unknown subcommand or wrong number of arguments for '{name.decode(errors='surrogateescape')[:128]}'."
        f" Try {command.upper()} HELP."
    )


def wrong_arity(name: str) -> ReplyError:
    return ReplyError(f"ERR wrong number of arguments for '{name}' command")


def unknown_command(name: bytes, args: list[bytes]) -> ReplyError:
    shown = "".join(f"'{_printable(a)}' " for a in args[:64])
    return ReplyError(f"ERR unknown command '{_printable(name[:128])}', with args beginning with: {shown}")


def unknown_subcommand(sub: bytes, command: str) -> ReplyError:
    return ReplyError(f"ERR unknown subcommand '{_printable(sub[:128])}'. Try {command.upper()} HELP.")


def _printable(raw: bytes) -> str:
    # Redis echoes the bytes as sent (surrogateescape keeps those that are no UTF-8 for the
    # reply's encoding), with CR and LF as spaces so the error stays one line.
    text = raw.decode("utf-8", "surrogateescape")
    return text.replace("\r", " ").replace("\n", " ")
