"""Start the web app and the Huey worker together (PLAT-8).

* One web process (``--workers 1``, the default on SQLite and what ``make run`` starts):
  waitress with ``--threads`` threads, in this process. SQLite has one writer at a time, so
  more processes would only queue on its lock.
* Several (``--workers N``, the default on PostgreSQL: one per core): gunicorn, one master
  and N worker processes of ``--threads`` threads each (the ``gthread`` worker: keep-alive
  connections wait in a poller, not in a thread). Python runs one thread at a time per
  process, so processes are what put every core to work. gunicorn runs as a child of this
  command, supervised like the background worker.

Static files are served by the app itself (WhiteNoise) either way. The background worker is
supervised: if it dies it is started again (with a log line), and Ctrl-C or SIGTERM stops
everything (see docs/deployment.md)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from medvigil.accounts.demo import DEMO_PASSWORD, DEMO_USERS

log = logging.getLogger("medvigil.serve")

WORKER_ARGV = [sys.executable, "-m", "medvigil.cli", "run_huey", "--quiet"]


def cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def default_workers(engine: str | None = None) -> int:
    """One web process per core on PostgreSQL; one on SQLite (a single writer)."""
    engine = engine or settings.DATABASES["default"]["ENGINE"]
    return 1 if engine.endswith("sqlite3") else cores()


def port_in_use(host: str, port: int) -> bool:
    """Whether another program listens on host:port already (gunicorn would retry binding
    for several seconds, then exit: tell the user at once instead)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def gunicorn_argv(*, host: str, port: int, workers: int, threads: int, timeout: int) -> list[str]:
    """The command line of the multi-process web server (gunicorn, gthread workers)."""
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "medvigil.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        # the app is imported once in the master, then forked: less memory, faster start
        "--preload",
        "--timeout",
        str(timeout),
        "--graceful-timeout",
        "30",
        "--keep-alive",
        "5",
        "--error-logfile",
        "-",
        "--log-level",
        "warning",
        # gunicorn 27 opens a control socket at one fixed path per user by default: two
        # servers (two sites, the tests) would take it from each other; serve needs none
        "--no-control-socket",
    ]


class Command(BaseCommand):
    help = "Run the web app and the background worker (Ctrl-C stops both)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Web processes (default: one per core on PostgreSQL, 1 on SQLite). "
            "More than 1 runs gunicorn.",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=None,
            help="Threads per web process (default: 8 with one process, 4 with several).",
        )
        parser.add_argument(
            "--timeout",
            type=int,
            default=120,
            help="With several processes: seconds a request may run before its process "
            "is restarted.",
        )
        parser.add_argument("--no-worker", action="store_true")
        parser.add_argument(
            "--check-interval",
            type=float,
            default=2.0,
            help="Seconds between checks that the background worker (and gunicorn) is alive.",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        workers = opts["workers"] if opts["workers"] is not None else default_workers()
        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        threads = opts["threads"] if opts["threads"] is not None else (8 if workers == 1 else 4)
        if threads < 1:
            raise CommandError("--threads must be at least 1.")
        host, port = opts["host"], opts["port"]
        web = None
        if workers > 1:
            try:
                import gunicorn  # noqa: F401
            except ImportError as exc:  # Windows: no fork, no gunicorn
                raise CommandError(
                    "--workers above 1 needs gunicorn (Linux, macOS); use --workers 1."
                ) from exc
            if port_in_use(host, port):
                raise CommandError(f"Port {port} on {host} is in use by another program.")
            web = Supervisor(
                gunicorn_argv(
                    host=host,
                    port=port,
                    workers=workers,
                    threads=threads,
                    timeout=opts["timeout"],
                ),
                interval=opts["check_interval"],
                # gunicorn: SIGTERM is its graceful stop (requests in flight finish)
                stop_signals=(signal.SIGTERM,),
                grace=35.0,
                name="web server",
            )
        worker = None
        if not opts["no_worker"]:
            worker = Supervisor(WORKER_ARGV, interval=opts["check_interval"])

        def stop(*_a: Any) -> None:
            raise SystemExit(0)  # the finally below stops the children

        signal.signal(signal.SIGTERM, stop)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, stop)  # terminal closed
        try:
            if worker is not None:
                worker.start()
                self.stdout.write(f"Background worker started (pid {worker.pid}).")
            if web is not None:
                web.start()
                self._wait_listening(web, host, port)
                self.stdout.write(
                    f"Web server: gunicorn, {workers} processes × {threads} threads "
                    f"(pid {web.pid})."
                )
            else:
                self.stdout.write(f"Web server: waitress, 1 process × {threads} threads.")
            self._banner(host, port)
            if web is not None:
                while True:  # the supervisors' threads do the work; a signal ends this
                    time.sleep(3600)
            else:
                from waitress import serve

                from medvigil.wsgi import application

                serve(application, host=host, port=port, threads=threads)
        except KeyboardInterrupt:
            self.stdout.write("Stopping…")
        finally:
            if web is not None:
                web.stop()
            if worker is not None:
                worker.stop()

    def _wait_listening(self, web: Supervisor, host: str, port: int, timeout: float = 60) -> None:
        """Wait until the web server accepts connections; fail if it exits first (port in
        use, bad settings) rather than restarting it again and again."""
        deadline = time.monotonic() + timeout
        wildcard = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}  # noqa: S104
        addr = wildcard.get(host, host)
        while time.monotonic() < deadline:
            proc = web.proc
            if web.restarts or (proc is not None and proc.poll() is not None):
                raise CommandError("The web server exited at its start (see above).")
            try:
                with socket.create_connection((addr, port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise CommandError(f"The web server did not listen on port {port} within {timeout:.0f} s.")

    def _banner(self, host: str, port: int) -> None:
        self.stdout.write(self.style.SUCCESS(f"MedVigil is at http://{host}:{port}/"))
        self.stdout.write(
            f"Database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}"
            f"  Jobs: {settings.HUEY['huey_class']}"
        )
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, _name, role, *_rest in DEMO_USERS:
            self.stdout.write(f"  {username:<12} {role}")
        self.stdout.flush()


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
        stop_signals: Sequence[int] = (signal.SIGINT, signal.SIGTERM),
    ) -> None:
        self.argv = list(argv)
        self.interval = interval
        self.quick = quick
        self.max_delay = max_delay
        self.grace = grace
        self.name = name
        self.stop_signals = tuple(stop_signals)
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
                stop_worker(self.proc, self.grace, self.stop_signals)


def stop_worker(
    worker: subprocess.Popen,
    grace: float = 20.0,
    signals: Sequence[int] = (signal.SIGINT, signal.SIGTERM),
) -> None:
    """Stop a child: for the Huey consumer SIGINT first (graceful: running jobs finish),
    SIGTERM if it is still busy after `grace` seconds; gunicorn's graceful stop is SIGTERM.
    SIGKILL as a last resort."""
    if worker.poll() is not None:
        return
    waits = [grace] + [5.0] * (len(signals) - 1)
    for sig, wait in zip(signals, waits, strict=True):
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
