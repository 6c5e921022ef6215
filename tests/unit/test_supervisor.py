"""The supervisor with real child processes: small HTTP servers standing in for the three services."""

from __future__ import annotations

import dataclasses
import io
import os
import re
import signal
import sys
import textwrap
import threading
import time

import pytest

from bot import supervisor as supervisor_module
from bot.ports import free_port
from bot.supervisor import ServiceSpec, Supervisor


def server_spec(name: str, tmp_path, then: str = "time.sleep(600)", markers: tuple[str, ...] = ()):
    port = free_port()
    script = textwrap.dedent(
        f"""
        import http.server, sys, threading, time
        server = http.server.HTTPServer(("127.0.0.1", {port}), http.server.SimpleHTTPRequestHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print("serving", flush=True)
        {then}
        """
    )
    return ServiceSpec(
        name=name,
        command=[sys.executable, "-c", script],
        ready_url=f"http://127.0.0.1:{port}/",
        env=dict(os.environ),
        cwd=tmp_path,
        fatal_markers=markers,
    )


def test_when_one_service_dies_the_others_are_stopped_and_its_last_lines_shown(tmp_path):
    out = io.StringIO()
    crash = "time.sleep(1); print('disk full, giving up', flush=True); sys.exit(3)"
    supervisor = Supervisor([server_spec("steady one", tmp_path), server_spec("crasher", tmp_path, crash)], out)
    readiness: list[bool] = []

    code = supervisor.run(timeout=30, on_ready=lambda: readiness.append(True))

    report = out.getvalue()
    assert code == 1
    assert readiness == [True]
    assert "The crasher stopped unexpectedly (exit code 3)" in report
    assert "disk full, giving up" in report.split("stopped unexpectedly")[1]
    assert all(service.exited() is not None for service in supervisor.services)


def test_a_service_that_never_answers_fails_the_start_by_name(tmp_path):
    out = io.StringIO()
    silent = ServiceSpec(
        name="mute service",
        command=[sys.executable, "-c", "import time; print('thinking', flush=True); time.sleep(600)"],
        ready_url=f"http://127.0.0.1:{free_port()}/",
        env=dict(os.environ),
        cwd=tmp_path,
    )
    supervisor = Supervisor([server_spec("fine", tmp_path), silent], out)

    assert supervisor.run(timeout=3, on_ready=lambda: None) == 1
    assert "Not ready after 3 s: mute service" in out.getvalue()
    assert all(service.exited() is not None for service in supervisor.services)


def test_a_fatal_line_stops_everything_even_though_the_process_lives(tmp_path):
    out = io.StringIO()
    warn = "print('Falling back to InMemoryTrackerStore', flush=True); time.sleep(600)"
    supervisor = Supervisor([server_spec("rasa-like", tmp_path, warn, markers=("InMemoryTrackerStore",))], out)

    assert supervisor.run(timeout=30, on_ready=lambda: None) == 1
    assert "The rasa-like is running but unusable: Falling back to InMemoryTrackerStore" in out.getvalue()


def test_a_stop_request_stops_every_service_cleanly(tmp_path):
    out = io.StringIO()
    supervisor = Supervisor([server_spec("a", tmp_path), server_spec("b", tmp_path)], out)

    def stop_soon() -> None:
        threading.Timer(0.5, supervisor.request_stop).start()

    assert supervisor.run(timeout=30, on_ready=stop_soon) == 0
    assert all(service.exited() is not None for service in supervisor.services)
    assert "All processes stopped." in out.getvalue()


def marker_spec(name: str, tmp_path, script: str) -> ServiceSpec:
    return ServiceSpec(
        name=name,
        command=[sys.executable, "-c", script],
        ready_url=None,
        env=dict(os.environ),
        cwd=tmp_path,
        ready_marker="worker ready",
    )


def test_a_service_without_a_server_is_ready_when_it_prints_its_marker(tmp_path):
    out = io.StringIO()
    late = "import time; time.sleep(1); print('worker ready', flush=True); time.sleep(600)"
    supervisor = Supervisor([server_spec("web", tmp_path), marker_spec("worker", tmp_path, late)], out)
    readiness: list[bool] = []

    def ready_then_stop() -> None:
        readiness.append(supervisor.services[1].saw_ready_marker)
        supervisor.request_stop()

    assert supervisor.run(timeout=30, on_ready=ready_then_stop) == 0
    assert readiness == [True]


def test_a_service_that_never_prints_its_marker_fails_the_start(tmp_path):
    out = io.StringIO()
    mute = "import time; print('starting', flush=True); time.sleep(600)"
    supervisor = Supervisor([marker_spec("worker", tmp_path, mute)], out)

    assert supervisor.run(timeout=3, on_ready=lambda: None) == 1
    assert "Not ready after 3 s: worker" in out.getvalue()


def test_a_spec_needs_a_way_to_tell_it_is_ready(tmp_path):
    with pytest.raises(ValueError, match="ready_url or a ready_marker"):
        ServiceSpec(name="x", command=["true"], ready_url=None, env={}, cwd=tmp_path)


def restartable(spec: ServiceSpec) -> ServiceSpec:
    return dataclasses.replace(spec, restart_on_exit=True)


def wait_for(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def run_then(supervisor: Supervisor, steps) -> int:
    """Run the supervisor (in this, the main thread: it sets signal handlers); once ready, `steps()` runs in a
    thread, then the supervisor is asked to stop. A failure in `steps` is raised here."""
    failures: list[BaseException] = []

    def in_thread() -> None:
        try:
            steps()
        except BaseException as error:  # re-raised in the test's thread below
            failures.append(error)
        finally:
            supervisor.request_stop()

    code = supervisor.run(timeout=30, on_ready=lambda: threading.Thread(target=in_thread).start())
    if failures:
        raise failures[0]
    return code


def test_a_restartable_service_that_dies_is_restarted_and_the_others_carry_on(tmp_path):
    out = io.StringIO()
    instance = restartable(server_spec("Rasa server 2", tmp_path))
    supervisor = Supervisor([server_spec("web app", tmp_path), instance], out)

    def kill_it() -> None:
        first = supervisor.services[1]
        os.killpg(first.process.pid, signal.SIGKILL)
        wait_for(lambda: "is ready again" in out.getvalue())
        report = out.getvalue()
        stopped = "The Rasa server 2 stopped unexpectedly (exit code -9); the others carry on, restarting it in 1 s"
        assert stopped in report
        assert "Restarted the Rasa server 2 (restart 1)." in report
        assert "The Rasa server 2 is ready again." in report
        assert supervisor.services[1] is not first and supervisor.services[1].exited() is None
        assert supervisor.services[0].exited() is None  # the web app was not touched

    assert run_then(supervisor, kill_it) == 0
    assert all(service.exited() is not None for service in supervisor.services)


def test_restarts_back_off_while_a_restartable_service_keeps_dying(tmp_path, monkeypatch):
    monkeypatch.setattr(supervisor_module, "RESTART_FIRST_BACKOFF", 0.2)
    out = io.StringIO()
    # Ready, then dies after a moment, every time it is started.
    flaky = restartable(server_spec("action server 1", tmp_path, "time.sleep(1); sys.exit(5)"))
    supervisor = Supervisor([server_spec("web app", tmp_path), flaky], out)

    def watch() -> None:
        wait_for(lambda: out.getvalue().count("stopped unexpectedly (exit code 5)") >= 3, timeout=60)

    assert run_then(supervisor, watch) == 0
    pattern = r"action server 1 stopped unexpectedly \(exit code 5\); .*restarting it in ([\d.]+) s"
    assert [float(d) for d in re.findall(pattern, out.getvalue())[:3]] == [0.2, 0.4, 0.8]


def test_a_restartable_service_that_fails_during_the_start_still_stops_everything(tmp_path):
    out = io.StringIO()
    broken = restartable(
        ServiceSpec(
            name="Rasa server 1",
            command=[sys.executable, "-c", "import sys; print('bad config', flush=True); sys.exit(2)"],
            ready_url=f"http://127.0.0.1:{free_port()}/",
            env=dict(os.environ),
            cwd=tmp_path,
        )
    )
    supervisor = Supervisor([server_spec("web app", tmp_path), broken], out)

    assert supervisor.run(timeout=30, on_ready=lambda: None) == 1
    assert "The Rasa server 1 stopped unexpectedly (exit code 2)" in out.getvalue()
    assert "bad config" in out.getvalue()
    assert all(service.exited() is not None for service in supervisor.services)


def test_a_restartable_service_printing_a_fatal_line_is_restarted_not_left_running(tmp_path):
    out = io.StringIO()
    warn = "time.sleep(1); print('Falling back to InMemoryTrackerStore', flush=True); time.sleep(600)"
    instance = restartable(server_spec("Rasa server 1", tmp_path, warn, markers=("InMemoryTrackerStore",)))
    supervisor = Supervisor([server_spec("web app", tmp_path), instance], out)

    def watch() -> None:
        first = supervisor.services[1]
        wait_for(lambda: "Restarted the Rasa server 1" in out.getvalue())
        unusable = "is running but unusable: Falling back to InMemoryTrackerStore; the others carry on"
        assert unusable in out.getvalue()
        assert first.exited() is not None  # stopped, not left serving

    assert run_then(supervisor, watch) == 0
