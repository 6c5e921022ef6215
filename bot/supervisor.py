"""Start the assistant's processes, wait until each answers, and stop them all together.

`ijm-bot run` uses this: if one process dies the others are stopped and the message says which one died and
the last lines it printed; Ctrl-C (SIGINT) or SIGTERM stops all of them.

Except, once everything has been ready, a service marked `restart_on_exit` (the Rasa and action servers of
`ijm-bot run --instances N`, where the others carry on without one of them): when it exits or prints a fatal
line it is stopped, logged with its last lines and started again after a back-off (1 s, doubling up to
RESTART_MAX_BACKOFF; back to 1 s once it has stayed up RESTART_RESET_SECONDS). Before everything is ready,
any failure stops the start, restartable or not: a fault in the configuration is reported, not looped on.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import requests

TAIL_LINES = 30
STOP_GRACE_SECONDS = 15
RESTART_FIRST_BACKOFF = 1.0
RESTART_MAX_BACKOFF = 30.0
RESTART_RESET_SECONDS = 60.0


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    command: list[str]
    # Ready when this answers 200; a process without a server (None) is ready once it prints `ready_marker`.
    ready_url: str | None
    env: dict[str, str]
    cwd: Path
    # Lines that mean the process runs but is unfit for use (e.g. Rasa falling back to an in-memory store).
    fatal_markers: tuple[str, ...] = ()
    ready_marker: str | None = None
    # Restarted (with a back-off) when it exits after the start, instead of stopping everything.
    restart_on_exit: bool = False

    def __post_init__(self) -> None:
        if self.ready_url is None and self.ready_marker is None:
            raise ValueError(f"{self.name}: a service needs a ready_url or a ready_marker")


class ServiceFailed(RuntimeError):
    """A service died, printed a fatal line, or did not become ready in time."""


def _die_with_parent() -> None:
    """In the child: get SIGTERM if `ijm-bot run` itself is killed, so nothing is left behind."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@dataclass
class RunningService:
    spec: ServiceSpec
    process: subprocess.Popen[str]
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    fatal_line: str | None = None
    saw_ready_marker: bool = False
    started_at: float = field(default_factory=time.monotonic)
    restarts: int = 0  # how many times this service was restarted before this process
    announced_ready: bool = False
    _reader: threading.Thread | None = None

    @classmethod
    def start(cls, spec: ServiceSpec, out: TextIO) -> RunningService:
        process = subprocess.Popen(
            spec.command,
            cwd=spec.cwd,
            env=spec.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            bufsize=1,
            start_new_session=True,  # Ctrl-C reaches only us; we stop the children in order.
            preexec_fn=_die_with_parent,
        )
        service = cls(spec, process)
        service._reader = threading.Thread(target=service._pump, args=(out,), daemon=True)
        service._reader.start()
        return service

    def _pump(self, out: TextIO) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            line = line.rstrip("\n")
            self.tail.append(line)
            if self.fatal_line is None and any(marker in line for marker in self.spec.fatal_markers):
                self.fatal_line = line
            if self.spec.ready_marker is not None and self.spec.ready_marker in line:
                self.saw_ready_marker = True
            print(f"[{self.spec.name}] {line}", file=out, flush=True)

    def exited(self) -> int | None:
        return self.process.poll()

    def is_ready(self) -> bool:
        if self.spec.ready_url is None:
            return self.saw_ready_marker and self.process.poll() is None
        try:
            return requests.get(self.spec.ready_url, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def wait_ready(self, timeout: float) -> None:
        """Block until ready; ServiceFailed if it exits first or is not ready in time (with its last lines)."""
        deadline = time.monotonic() + timeout
        while not self.is_ready():
            if self.exited() is not None:
                raise ServiceFailed(f"the {self.spec.name} exited:\n{self.last_lines()}")
            if time.monotonic() > deadline:
                raise ServiceFailed(f"the {self.spec.name} was not ready after {timeout:g} s:\n{self.last_lines()}")
            time.sleep(0.2)

    def last_lines(self) -> str:
        if self._reader is not None:
            self._reader.join(timeout=2)  # let the reader catch the final lines of a dead process
        return "\n".join(f"    {line}" for line in self.tail) or "    (it printed nothing)"

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class Supervisor:
    def __init__(self, specs: list[ServiceSpec], out: TextIO = sys.stdout) -> None:
        self.specs = specs
        self.out = out
        self.services: list[RunningService] = []
        self._stop_requested = threading.Event()
        self._restart_due: dict[int, float] = {}  # index in self.services -> when to start it again

    def say(self, message: str) -> None:
        print(message, file=self.out, flush=True)

    def request_stop(self, *_: object) -> None:
        self._stop_requested.set()

    def _check_health(self, restarting: bool = False) -> None:
        for index, service in enumerate(self.services):
            if restarting and service.spec.restart_on_exit:
                self._restart_if_failed(index, service)
                continue
            code = service.exited()
            if code is not None:
                raise ServiceFailed(
                    f"The {service.spec.name} stopped unexpectedly (exit code {code}). "
                    f"Its last lines:\n{service.last_lines()}"
                )
            if service.fatal_line is not None:
                raise ServiceFailed(
                    f"The {service.spec.name} is running but unusable: {service.fatal_line.strip()}\n"
                    f"Its last lines:\n{service.last_lines()}"
                )

    def start_and_wait(self, timeout: float) -> None:
        for spec in self.specs:
            self.services.append(RunningService.start(spec, self.out))
        deadline = time.monotonic() + timeout
        waiting = list(self.services)
        while waiting:
            if self._stop_requested.is_set():
                return
            self._check_health()
            waiting = [service for service in waiting if not service.is_ready()]
            if waiting and time.monotonic() > deadline:
                names = ", ".join(service.spec.name for service in waiting)
                details = "\n".join(f"  {s.spec.name}:\n{s.last_lines()}" for s in waiting)
                raise ServiceFailed(f"Not ready after {timeout:.0f} s: {names}. Last lines:\n{details}")
            if waiting:
                time.sleep(0.5)
        self._check_health()

    def _restart_if_failed(self, index: int, service: RunningService) -> None:
        """A restartable service: restart it when it has failed and its back-off has passed."""
        now = time.monotonic()
        pending = self._restart_due.get(index)
        if pending is not None:
            if now >= pending and not self._stop_requested.is_set():
                del self._restart_due[index]
                replacement = RunningService.start(service.spec, self.out)
                replacement.restarts = service.restarts + 1
                self.services[index] = replacement
                self.say(f"Restarted the {service.spec.name} (restart {replacement.restarts}).")
            return
        code = service.exited()
        if code is None and service.fatal_line is None:
            if not service.announced_ready and service.restarts and service.is_ready():
                service.announced_ready = True
                self.say(f"The {service.spec.name} is ready again.")
            return
        why = (
            f"stopped unexpectedly (exit code {code})"
            if code is not None
            else f"is running but unusable: {service.fatal_line.strip()}"
        )
        service.stop()
        if now - service.started_at >= RESTART_RESET_SECONDS:
            service.restarts = 0  # it ran well for a while: this is a new failure, not a crash loop
        delay = min(RESTART_FIRST_BACKOFF * 2**service.restarts, RESTART_MAX_BACKOFF)
        self._restart_due[index] = now + delay
        self.say(
            f"The {service.spec.name} {why}; the others carry on, restarting it in {delay:g} s. "
            f"Its last lines:\n{service.last_lines()}"
        )

    def watch(self) -> None:
        while not self._stop_requested.wait(0.5):
            self._check_health(restarting=True)

    def stop_all(self) -> None:
        for service in reversed(self.services):
            service.stop()

    def run(self, timeout: float, on_ready: Callable[[], None]) -> int:
        """Start everything, call on_ready once all answer, then supervise until stopped. Returns an exit code."""
        previous = {sig: signal.signal(sig, self.request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.start_and_wait(timeout)
            if not self._stop_requested.is_set():
                on_ready()
                self.watch()
            self.say("Stopping…")
            return 0
        except ServiceFailed as failure:
            self.say(f"\n{failure}\nStopping the other processes.")
            return 1
        finally:
            self.stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.say("All processes stopped.")
