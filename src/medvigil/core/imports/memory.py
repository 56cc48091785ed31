"""The cyclic garbage collector paused while an import validates and writes.

An import builds hundreds of thousands of small objects (rows, cell values, model instances,
audit payloads) that all stay alive until it ends; every generation-2 collection walks all of
them again, so the collector's time grows with the file (#7: a 50,000-unit import spent a
third of its conversion and lookup time in collections that freed nothing). Reference
counting still frees everything that is not a cycle; the collector runs as soon as the last
paused import of the process ends. Nested and concurrent pauses (threads) are counted.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def paused_gc() -> Iterator[None]:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
