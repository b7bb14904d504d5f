"""notification-script and client-reconfig-script jobs, run as Redis Sentinel runs them.

Started directly (no shell) with only stdio inherited; at most 16 running and 256 queued;
exit 1 or a signal retries with a doubling delay (at most 10 runs), exit 2+ is an error, and a
job running longer than SCRIPT-MAX-RUNTIME is killed.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sentinel.monitor import Sentinel

MAX_RUNNING = 16
MAX_QUEUE = 256
MAX_RETRIES = 10


@dataclass(eq=False)
class ScriptJob:
    argv: list[str]
    retry_num: int = 0
    start_time: int = 0  # when running: start; when scheduled: earliest start
    process: subprocess.Popen[bytes] | None = None


class ScriptRunner:
    def __init__(self, sentinel: Sentinel) -> None:
        self.sentinel = sentinel
        self.jobs: list[ScriptJob] = []

    @property
    def running(self) -> int:
        return sum(1 for job in self.jobs if job.process is not None)

    def schedule(self, argv: list[str]) -> None:
        self.jobs.append(ScriptJob(argv))
        if len(self.jobs) > MAX_QUEUE:
            for job in self.jobs:
                if job.process is None:
                    self.jobs.remove(job)
                    break

    def run(self) -> None:
        self._reap()
        self._start_due()
        self._kill_timed_out()

    def _start_due(self) -> None:
        now = self.sentinel.clock()
        for job in self.jobs:
            if self.running >= MAX_RUNNING:
                return
            if job.process is not None or job.start_time > now:
                continue
            job.retry_num += 1
            job.start_time = now
            try:
                job.process = subprocess.Popen(
                    job.argv, stdin=subprocess.DEVNULL, close_fds=True, start_new_session=True
                )
            except OSError:
                self.sentinel.event("warning", "-script-error", None, f"{job.argv[0]} 99 0")
                self.jobs.remove(job)
                return
            self.sentinel.event("debug", "+script-child", None, str(job.process.pid))

    def _reap(self) -> None:
        for job in list(self.jobs):
            process = job.process
            if process is None or process.poll() is None:
                continue
            code = process.returncode
            signal_number = -code if code < 0 else 0
            self.sentinel.event("debug", "-script-child", None, f"{process.pid} {max(code, 0)} {signal_number}")
            job.process = None
            if (code == 1 or signal_number) and job.retry_num < MAX_RETRIES:
                delay = self.sentinel.timing.script_retry_delay * (2 ** (job.retry_num - 1))
                job.start_time = self.sentinel.clock() + delay
                continue
            if code != 0:
                self.sentinel.event("warning", "-script-error", None, f"{job.argv[0]} {signal_number} {max(code, 0)}")
            self.jobs.remove(job)

    def _kill_timed_out(self) -> None:
        now = self.sentinel.clock()
        for job in self.jobs:
            if job.process is not None and now - job.start_time > self.sentinel.timing.script_max_runtime:
                self.sentinel.event("warning", "-script-timeout", None, f"{job.argv[0]} {job.process.pid}")
                job.process.kill()

    def pending(self) -> list[dict[str, object]]:
        """SENTINEL PENDING-SCRIPTS."""
        now = self.sentinel.clock()
        out: list[dict[str, object]] = []
        for job in self.jobs:
            running = job.process is not None
            entry: dict[str, object] = {
                "argv": [a.encode() for a in job.argv],
                "flags": b"running" if running else b"scheduled",
                "pid": b"%d" % (job.process.pid if job.process is not None else 0),
            }
            if running:
                entry["run-time"] = b"%d" % (now - job.start_time)
            else:
                entry["run-delay"] = b"%d" % max(0, job.start_time - now)
            entry["retry-num"] = b"%d" % job.retry_num
            out.append(entry)
        return out
