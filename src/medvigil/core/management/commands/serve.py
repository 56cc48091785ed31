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
            worker = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "medvigil.cli", "run_huey", "--quiet"]
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
            if worker is not None:
                worker.terminate()
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, stop)
        try:
            from waitress import serve

            from medvigil.wsgi import application

            serve(application, host=host, port=port, threads=opts["threads"])
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(10)
