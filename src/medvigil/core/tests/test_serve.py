"""PLAT-8: `medvigil serve` supervises the background worker — a worker that dies is started
again with a log line — and Ctrl-C / SIGTERM stops the web server and the worker. Tested
with real child processes that are killed."""

from __future__ import annotations

import http.client
import logging
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from medvigil.core.management.commands.serve import Supervisor

pytestmark = [pytest.mark.req("PLAT-8")]

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie is gone for our purpose only once reaped; the supervisor reaps its children
    return False


def test_a_killed_worker_is_restarted_with_a_log_line_and_stop_ends_it(caplog):
    caplog.set_level(logging.WARNING, logger="medvigil.serve")
    sup = Supervisor(SLEEPER, interval=0.05, quick=0.0, grace=2.0)
    sup.start()
    try:
        first = sup.proc
        assert first is not None and first.poll() is None
        os.kill(first.pid, signal.SIGKILL)
        assert wait_for(lambda: sup.restarts == 1)
        second = sup.proc
        assert second is not first and second.poll() is None
        messages = [r.getMessage() for r in caplog.records]
        assert any(f"(pid {first.pid}) exited with code -9" in m for m in messages), messages
        assert any(f"restarted (pid {second.pid})" in m for m in messages), messages
    finally:
        sup.stop()
    assert second.poll() is not None  # stopped, and not started again
    time.sleep(0.2)
    assert sup.proc is second and sup.restarts == 1


def test_a_worker_that_cannot_start_is_retried_with_a_growing_delay():
    crasher = [sys.executable, "-c", "raise SystemExit(3)"]
    sup = Supervisor(crasher, interval=0.05, quick=30.0, max_delay=0.4, grace=1.0)
    sup.start()
    try:
        time.sleep(1.5)
    finally:
        sup.stop()
    # without the delay it would have been restarted about 30 times
    assert 2 <= sup.restarts <= 8, sup.restarts


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lines_of(stream, into):
    for line in iter(stream.readline, ""):
        into.put(line)


def next_match(lines, pattern, timeout=40.0):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        seen.append(line)
        m = re.search(pattern, line)
        if m:
            return m
    tail = "".join(seen[-40:])
    raise AssertionError(f"no line matching {pattern!r}; the last lines read:\n{tail}")


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serve_restarts_its_killed_worker_and_stops_both_on_a_signal(tmp_path, stop_signal):
    env = {
        **os.environ,
        "MEDVIGIL_DEV": "1",
        "MEDVIGIL_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("REDIS_URL", None)
    env.pop("MEDVIGIL_TESTING", None)
    port = free_port()
    argv = [sys.executable, "-m", "medvigil.cli", "serve", "--port", str(port)]
    proc = subprocess.Popen(  # noqa: S603
        [*argv, "--check-interval", "0.2"],
        env=env,
        cwd=Path(__file__).resolve().parents[4],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lines_of, args=(proc.stdout, lines), daemon=True).start()
    try:
        first = int(next_match(lines, r"Background worker started \(pid (\d+)\)").group(1))
        next_match(lines, r"MedVigil is at http")
        os.kill(first, signal.SIGKILL)
        second = int(next_match(lines, r"background worker was restarted \(pid (\d+)\)").group(1))
        assert second != first and not gone(second)
        proc.send_signal(stop_signal)
        assert proc.wait(timeout=40) == 0
        assert wait_for(lambda: gone(second), timeout=10), "the worker outlived serve"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --- several web processes (gunicorn) -------------------------------------------------------


def children_of(pid):
    """Pids of the live (non-zombie) children of `pid`, from /proc."""
    kids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            kids.append(int(entry.name))
    return kids


def serve_env(tmp_path):
    env = {
        **os.environ,
        "MEDVIGIL_DEV": "1",
        "MEDVIGIL_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("REDIS_URL", None)
    env.pop("MEDVIGIL_TESTING", None)
    return env


def start_serve(tmp_path, *args):
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "medvigil.cli", "serve", *args],
        env=serve_env(tmp_path),
        cwd=Path(__file__).resolve().parents[4],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lines_of, args=(proc.stdout, lines), daemon=True).start()
    return proc, lines


def get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_the_default_is_one_process_on_sqlite_and_one_per_core_on_postgresql():
    from medvigil.core.management.commands import serve

    assert serve.default_workers("django.db.backends.sqlite3") == 1
    assert (
        serve.default_workers("django.db.backends.postgresql")
        == serve.cores()
        == len(os.sched_getaffinity(0))
    )
    argv = serve.gunicorn_argv(host="0.0.0.0", port=8123, workers=3, threads=4, timeout=60)
    assert argv[argv.index("--workers") + 1] == "3"
    assert argv[argv.index("--bind") + 1] == "0.0.0.0:8123"
    assert argv[argv.index("--worker-class") + 1] == "gthread"
    assert "--no-control-socket" in argv  # two servers on one machine must not collide


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_serve_with_workers_runs_that_many_processes_serves_requests_and_stops_them_all(
    tmp_path,
):
    migrate = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "medvigil.cli", "migrate", "-v0"],
        env=serve_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr
    port = free_port()
    proc, lines = start_serve(
        tmp_path, "--port", str(port), "--workers", "3", "--check-interval", "0.2"
    )
    try:
        huey = int(next_match(lines, r"Background worker started \(pid (\d+)\)").group(1))
        m = next_match(
            lines, r"Web server: gunicorn, (\d+) processes × (\d+) threads \(pid (\d+)\)"
        )
        assert m.group(1) == "3" and m.group(2) == "4"
        master = int(m.group(3))
        next_match(lines, rf"MedVigil is at http://127.0.0.1:{port}/")
        assert wait_for(lambda: len(children_of(master)) == 3, timeout=30), children_of(master)
        workers = children_of(master)
        # the app answers: a page, a static file (WhiteNoise), the API
        status, body = get(port, "/login/")
        assert status == 200 and b"csrfmiddlewaretoken" in body
        assert get(port, "/static/medvigil/app.css")[0] == 200
        assert get(port, "/api/v1/me")[0] == 401
        # requests spread over the processes: kill one, gunicorn starts another
        os.kill(workers[0], signal.SIGKILL)
        assert wait_for(
            lambda: len(children_of(master)) == 3 and workers[0] not in children_of(master),
            timeout=30,
        )
        assert get(port, "/login/")[0] == 200
        # the background worker is still supervised
        os.kill(huey, signal.SIGKILL)
        again = int(next_match(lines, r"background worker was restarted \(pid (\d+)\)").group(1))
        assert again != huey
        everyone = [master, again, *children_of(master)]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        for pid in everyone:
            assert wait_for(lambda pid=pid: gone(pid), timeout=10), f"pid {pid} outlived serve"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_a_web_server_that_cannot_start_ends_serve_with_an_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc, lines = start_serve(tmp_path, "--port", str(port), "--workers", "2", "--no-worker")
        try:
            assert proc.wait(timeout=60) != 0
            next_match(lines, rf"Port {port} on 127.0.0.1 is in use", timeout=5)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.mark.django_db
def test_the_benchmark_floor_view_is_not_reachable_in_the_app(client):
    """benchmarks/requests.py measures a bare view that only its own settings install."""
    assert client.get("/bench/floor").status_code == 404
