"""Keep Python's cyclic garbage collector out of the way while an audit builds its records.

An inventory of 80,000 devices is about a million objects, none of them in reference
cycles (reference counting frees them). While they are being made, the collector runs
a full pass over every tracked object each time their number grows by a quarter, and
once they exist, every later full pass walks them all again: a third of the CPU of
building, judging and rendering such an audit goes there, to free nothing.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# New container objects above which a block's results count as a large, long-lived heap.
LARGE_HEAP = 100_000


@contextmanager
def paused_gc(keep: bool = False) -> Iterator[None]:
    """No automatic collection inside the block; the collector's state is restored after it.

    Only automatic collection stops: memory is still freed by reference counting. With
    ``keep``, a block that made a large heap (an inventory, a licensing report) leaves it
    frozen (``gc.freeze``): later collections skip it instead of walking it again. Frozen
    objects are still freed by reference counting when dropped; only a reference cycle
    among them would stay, and these records make none.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if keep and gc.get_count()[0] > LARGE_HEAP:
            gc.freeze()
        if enabled:
            gc.enable()
