"""Settings for benchmarks/requests.py only: MedVigil's settings, plus one bare view at
/bench/floor (bench_floor_urls) — the floor a request cannot go below under the same server,
the same middleware and the same database settings. This module and its URLconf live in
benchmarks/floor/, outside the installed package: a production server never imports them (the
benchmark starts its server with benchmarks/floor/ on PYTHONPATH and
DJANGO_SETTINGS_MODULE=bench_floor_settings)."""

from medvigil.settings import *  # noqa: F403

ROOT_URLCONF = "bench_floor_urls"
