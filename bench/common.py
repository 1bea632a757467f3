"""What the benchmark scripts share."""
from __future__ import annotations

import statistics
import time
from typing import Callable


def timed(fn: Callable[[], object], n: int) -> tuple[float, float]:
    """Run ``fn`` n times; (median, p99) in milliseconds."""
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    out.sort()
    return statistics.median(out), out[max(0, int(len(out) * 0.99) - 1)]
