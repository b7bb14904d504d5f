"""RDB persistence: SAVE, BGSAVE in a forked child (point-in-time, the loop never stalls), save
points, MISCONF after a failed background save, and the dump loaded at start-up."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO

from dragonfly_py import REDIS_VERSION
from dragonfly_py.rdb.reader import RdbError, RdbReader, Snapshot
from dragonfly_py.rdb.writer import EncodingLimits, RdbWriter

if TYPE_CHECKING:
    from dragonfly_py.server.server import Server

BGSAVE_RETRY_DELAY = 5  # seconds before a save point retries after a failed BGSAVE, as Redis


class Persistence:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.config = server.config
        self.log = server.log
        self.child_pid = -1
        self.child_kind = ""  # "rdb" for BGSAVE, "sync" for a replication snapshot
        self._child_started = 0.0
        self._child_done: Callable[[bool], None] | None = None
        self._pidfd = -1
        self.bgsave_scheduled = False
        self.last_bgsave_ok = True
        self.last_bgsave_time_sec = -1
        self.last_bgsave_try = 0.0
        self.saves = 0
        self.keys_loaded = 0
        self.keys_expired = 0
        self.loading_started = 0
        self.loading_total = 0
        self.loading_done = 0
        self.functions: list[bytes] = []  # FUNCTION2 libraries kept from a loaded file
        self.loaded_aux: dict[bytes, bytes] = {}  # the AUX fields of the last dump loaded

    # -- writing -----------------------------------------------------------------------------
    def aux_fields(self, replication: tuple[int, str, int] | None = None) -> list[tuple[bytes, bytes]]:
        from dragonfly_py.storage.memory import used_memory

        aux = [
            (b"redis-ver", REDIS_VERSION.encode()),
            (b"redis-bits", b"64"),
            (b"ctime", b"%d" % int(time.time())),
            (b"used-mem", b"%d" % used_memory()),
        ]
        if replication is not None:
            stream_db, replid, offset = replication
            aux += [
                (b"repl-stream-db", b"%d" % stream_db),
                (b"repl-id", replid.encode()),
                (b"repl-offset", b"%d" % offset),
            ]
        aux.append((b"aof-base", b"0"))
        return aux

    def write_rdb(self, out: BinaryIO | Callable[[bytes], Any], replication: tuple[int, str, int] | None = None) -> int:
        """Serialise the whole dataset; returns the bytes written."""
        writer = RdbWriter(out, EncodingLimits.from_config(self.config), checksum=self.config["rdbchecksum"])
        writer.header(self.aux_fields(replication), self.functions)
        for db in self.server.keyspace.dbs:
            writer.database(db.index, db.data, db.expires)
        writer.finish()
        return writer.bytes_written

    def _write_file(self, filename: str) -> None:
        """Temp file, fsync, rename: a crash mid-save never leaves a broken dump."""
        temp = f"temp-{os.getpid()}.rdb"
        try:
            with open(temp, "wb") as out:
                self.write_rdb(out, self.server.rdb_replication_info())
                out.flush()
                os.fsync(out.fileno())
            try:
                os.replace(temp, filename)
            except OSError as exc:
                self.log.warning(
                    f"Error moving temp DB file {temp} on the final destination {filename} "
                    f"(in server root dir {os.getcwd()}): {exc.strerror}"
                )
                raise
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise

    def save(self) -> bool:
        """SAVE: write the dump in the foreground."""
        try:
            self._write_file(self.config["dbfilename"])
        except OSError as exc:
            self.log.warning(f"Failed saving the DB: {exc.strerror or exc}")
            return False
        self.log.info("DB saved on disk")
        self._saved()
        return True

    def _saved(self) -> None:
        self.server.keyspace.dirty = 0
        self.server.last_save = int(time.time())
        self.last_bgsave_ok = True
        self.server.update_restrictions()

    # -- forked children ---------------------------------------------------------------------
    @property
    def child_running(self) -> bool:
        return self.child_pid != -1

    def fork_child(self, kind: str, work: Callable[[], None], on_done: Callable[[bool], None]) -> int:
        """Run work() in a forked child (a point-in-time copy of the dataset); on_done(ok) after."""
        pid = os.fork()
        if pid == 0:  # child: no event loop, no atexit handlers, exit code is the result
            code = 1
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                work()
                code = 0
            except BaseException as exc:
                with contextlib.suppress(Exception):
                    self.log.warning(f"Child failed: {exc}")
            finally:
                os._exit(code)
        self.child_pid, self.child_kind, self._child_done = pid, kind, on_done
        self._child_started = time.monotonic()
        self._pidfd = os.pidfd_open(pid)
        asyncio.get_running_loop().add_reader(self._pidfd, self._reap_child)
        return pid

    def _reap_child(self) -> None:
        pid, status = os.waitpid(self.child_pid, os.WNOHANG)
        if pid == 0:
            return
        ok = os.waitstatus_to_exitcode(status) == 0
        self._forget_child()
        done, self._child_done = self._child_done, None
        if done is not None:
            done(ok)

    def _forget_child(self) -> None:
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(self._pidfd)
        with contextlib.suppress(OSError):
            os.close(self._pidfd)
        self.child_pid, self.child_kind, self._pidfd = -1, "", -1

    def kill_child(self) -> None:
        if not self.child_running:
            return
        pid = self.child_pid
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGUSR1)
            os.waitpid(pid, 0)
        with contextlib.suppress(OSError):
            os.unlink(f"temp-{pid}.rdb")
        self._forget_child()
        self._child_done = None

    def bgsave(self) -> int:
        """Start a background save; the caller checks child_running first."""
        filename = self.config["dbfilename"]
        dirty_at_fork = self.server.keyspace.dirty
        self.last_bgsave_try = time.monotonic()
        self.saves += 1

        def done(ok: bool) -> None:
            self.last_bgsave_time_sec = int(time.monotonic() - started)
            if ok:
                self.log.info("Background saving terminated with success")
                self.server.keyspace.dirty = max(0, self.server.keyspace.dirty - dirty_at_fork)
                self.server.last_save = int(time.time())
                self.last_bgsave_ok = True
            else:
                self.log.warning("Background saving error")
                self.last_bgsave_ok = False
            self.server.update_restrictions()
            self.server.on_snapshot_done()
            if self.bgsave_scheduled:
                self.bgsave_scheduled = False
                self.bgsave()

        started = time.monotonic()
        pid = self.fork_child("rdb", lambda: self._write_file(filename), done)
        self.log.info(f"Background saving started by pid {pid}")
        return pid

    # -- save points and MISCONF -------------------------------------------------------------
    def cron(self) -> None:
        if self.child_running or self.server.loading:
            return
        if self.bgsave_scheduled:
            self.bgsave_scheduled = False
            self.bgsave()
            return
        dirty = self.server.keyspace.dirty
        elapsed = time.time() - self.server.last_save
        may_retry = self.last_bgsave_ok or time.monotonic() - self.last_bgsave_try > BGSAVE_RETRY_DELAY
        for seconds, changes in self.config["save"]:
            if dirty >= changes and elapsed >= seconds and may_retry:
                self.log.info(f"{changes} changes in {seconds} seconds. Saving...")
                self.bgsave()
                return

    def writes_refused(self) -> bool:
        """MISCONF: the last background save failed and the config says to stop writes."""
        return not self.last_bgsave_ok and bool(self.config["save"]) and self.config["stop-writes-on-bgsave-error"]

    # -- loading -----------------------------------------------------------------------------
    def load_file(self, path: str) -> Snapshot:
        """Read a dump into a fresh snapshot (runs in a worker thread; touches no live state)."""
        self.loading_total = os.path.getsize(path)
        self.loading_started = int(time.time())
        self.loading_done = 0

        def progress(offset: int) -> None:
            self.loading_done = offset

        with open(path, "rb") as source:
            reader = RdbReader(
                source.read,
                databases=self.config["databases"],
                drop_expired_before=int(time.time() * 1000),
                progress=progress,
                key_delay_us=self.config["key-load-delay"],
            )
            return reader.load()

    def install(self, snapshot: Snapshot) -> None:
        """Make a loaded snapshot the live dataset."""
        keyspace = self.server.keyspace
        keyspace.flush_all()
        for index, (data, expires) in snapshot.dbs.items():
            keyspace.dbs[index].replace_contents(data, expires)
        self.functions = snapshot.functions
        self.loaded_aux = snapshot.aux
        self.keys_loaded, self.keys_expired = snapshot.keys_loaded, snapshot.keys_expired
        keyspace.dirty = 0

    async def load_at_startup(self) -> bool:
        """Load dir/dbfilename if present, serving -LOADING meanwhile; False on a bad file."""
        path = self.config["dbfilename"]
        if not os.path.exists(path):
            return True
        server = self.server
        server.loading = True
        server.update_restrictions()
        started = time.monotonic()
        try:
            snapshot = await asyncio.to_thread(self.load_file, path)
        except (RdbError, OSError) as exc:
            where = f"{os.getcwd()}/{path}"
            self.log.warning(f"Fatal error loading the DB: {exc} ({where}). Exiting.")
            return False
        finally:
            server.loading = False
            server.update_restrictions()
        self.install(snapshot)
        if snapshot.functions:
            self.log.warning(f"Loaded {len(snapshot.functions)} function libraries; they are kept but not executed")
        self.log.info(f"Done loading RDB, keys loaded: {snapshot.keys_loaded}, keys expired: {snapshot.keys_expired}.")
        self.log.info(f"DB loaded from disk: {time.monotonic() - started:.3f} seconds")
        return True

    def info_fields(self) -> list[tuple[str, object]]:
        now = time.monotonic()
        in_progress = self.child_kind == "rdb"
        fields: list[tuple[str, object]] = [
            ("rdb_changes_since_last_save", self.server.keyspace.dirty),
            ("rdb_bgsave_in_progress", int(in_progress)),
            ("rdb_last_save_time", self.server.last_save),
            ("rdb_last_bgsave_status", "ok" if self.last_bgsave_ok else "err"),
            ("rdb_last_bgsave_time_sec", self.last_bgsave_time_sec),
            ("rdb_current_bgsave_time_sec", int(now - self._child_started) if in_progress else -1),
            ("rdb_saves", self.saves),
            ("rdb_last_cow_size", 0),
            ("rdb_last_load_keys_expired", self.keys_expired),
            ("rdb_last_load_keys_loaded", self.keys_loaded),
        ]
        return fields

    def loading_fields(self) -> list[tuple[str, object]]:
        total, done = self.loading_total, self.loading_done
        elapsed = max(1e-3, time.time() - self.loading_started)
        eta = int((total - done) / (done / elapsed)) if done else 1
        return [
            ("loading_start_time", self.loading_started),
            ("loading_total_bytes", total),
            ("loading_rdb_used_mem", 0),
            ("loading_loaded_bytes", done),
            ("loading_loaded_perc", f"{100 * done / total if total else 0:.2f}"),
            ("loading_eta_seconds", eta),
        ]
