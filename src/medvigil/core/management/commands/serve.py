"""Start the web app (waitress, static files by WhiteNoise) and the Huey worker together."""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from medvigil.accounts.demo import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Run the web app and the background worker (Ctrl-C stops both)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument("--no-worker", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        worker = None
        if not opts["no_worker"]:
            # Its own session: Ctrl-C reaches only this process, which then stops the
            # worker gracefully once (a second SIGINT would cut huey's graceful stop short).
            worker = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "medvigil.cli", "run_huey", "--quiet"],
                start_new_session=True,
            )
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
        finally:
            if worker is not None:
                stop_worker(worker)


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
