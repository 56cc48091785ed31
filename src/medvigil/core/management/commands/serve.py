"""Start the web app (waitress, static files by WhiteNoise) and the Huey worker together.
The worker is supervised: if it dies it is started again (with a log line), and Ctrl-C or
SIGTERM stops both."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from medvigil.accounts.demo import DEMO_PASSWORD, DEMO_USERS

log = logging.getLogger("medvigil.serve")

WORKER_ARGV = [sys.executable, "-m", "medvigil.cli", "run_huey", "--quiet"]


class Command(BaseCommand):
    help = "Run the web app and the background worker (Ctrl-C stops both)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument("--no-worker", action="store_true")
        parser.add_argument(
            "--check-interval",
            type=float,
            default=2.0,
            help="Seconds between checks that the background worker is alive.",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        worker = None
        if not opts["no_worker"]:
            worker = Supervisor(WORKER_ARGV, interval=opts["check_interval"])
            worker.start()
            self.stdout.write(f"Background worker started (pid {worker.pid}).")
        host, port = opts["host"], opts["port"]
        self.stdout.write(self.style.SUCCESS(f"MedVigil is at http://{host}:{port}/"))
        self.stdout.write(
            f"Database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}"
            f"  Jobs: {settings.HUEY['huey_class']}"
        )
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, _name, role, *_rest in DEMO_USERS:
            self.stdout.write(f"  {username:<12} {role}")
        self.stdout.flush()

        def stop(*_a: Any) -> None:
            raise SystemExit(0)  # the finally below stops the worker

        signal.signal(signal.SIGTERM, stop)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, stop)  # terminal closed
        try:
            from waitress import serve

            from medvigil.wsgi import application

            serve(application, host=host, port=port, threads=opts["threads"])
        except KeyboardInterrupt:
            self.stdout.write("Stopping…")
        finally:
            if worker is not None:
                worker.stop()


class Supervisor:
    """Run a child process (the Huey consumer) and keep it running: every `interval`
    seconds a thread checks it, and a child that exited is started again with a log line.
    A child that dies within `quick` seconds of its start is restarted after a delay that
    doubles up to `max_delay`, so a worker that cannot start does not spin.

    The child gets its own session: Ctrl-C reaches only `medvigil serve`, which stops the
    worker gracefully once (a second SIGINT would cut huey's graceful stop short)."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        interval: float = 2.0,
        quick: float = 10.0,
        max_delay: float = 60.0,
        grace: float = 20.0,
        name: str = "background worker",
    ) -> None:
        self.argv = list(argv)
        self.interval = interval
        self.quick = quick
        self.max_delay = max_delay
        self.grace = grace
        self.name = name
        self.restarts = 0
        self.proc: subprocess.Popen | None = None
        self._started_at = 0.0
        self._delay = 0.0
        self._restart_at: float | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="supervisor", daemon=True)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self) -> None:
        self._spawn()
        self._thread.start()

    def _spawn(self) -> None:
        self.proc = subprocess.Popen(self.argv, start_new_session=True)  # noqa: S603
        self._started_at = time.monotonic()

    def _watch(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.check()
            except Exception:  # keep watching whatever happens
                log.exception("Supervising the %s failed", self.name)

    def check(self) -> None:
        """Start the child again if it exited (called by the watching thread)."""
        with self._lock:
            if self._stopping.is_set() or self.proc is None or self.proc.poll() is None:
                return
            now = time.monotonic()
            if self._restart_at is None:
                ran = now - self._started_at
                self._delay = (
                    min(self.max_delay, max(self.interval, self._delay * 2))
                    if ran < self.quick
                    else 0.0
                )
                self._restart_at = now + self._delay
                log.warning(
                    "The %s (pid %s) exited with code %s after %.0f s; %s",
                    self.name,
                    self.proc.pid,
                    self.proc.returncode,
                    ran,
                    f"restarting it in {self._delay:.0f} s" if self._delay else "restarting it",
                )
            if now < self._restart_at:
                return
            self._restart_at = None
            self._spawn()
            self.restarts += 1
            log.warning("The %s was restarted (pid %s)", self.name, self.proc.pid)

    def stop(self) -> None:
        """Stop watching, then stop the child gracefully (see stop_worker)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()
        with self._lock:
            if self.proc is not None:
                stop_worker(self.proc, self.grace)


def stop_worker(worker: subprocess.Popen, grace: float = 20.0) -> None:
    """Stop the Huey consumer: SIGINT first (graceful: running jobs finish), SIGTERM if it
    is still busy after `grace` seconds, SIGKILL as a last resort."""
    if worker.poll() is not None:
        return
    for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, 5.0)):
        try:
            worker.send_signal(sig)
            worker.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            return
    worker.kill()
    worker.wait()
