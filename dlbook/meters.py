"""Meters that measure while code runs: :class:`Timer` and :class:`Accumulator`.

A :class:`Timer` records wall time, an :class:`Accumulator` keeps running sums.

Both are framework-neutral: an :class:`Accumulator` takes NumPy, MXNet or
PyTorch scalars (anything ``float()`` accepts). The book uses them in the
chapters that write the training loop by hand.
"""
import time

import numpy as onp

from ._checks import check_int

__all__ = ["Timer", "Accumulator"]


class Timer:
    """Record the wall time of several runs.

    Examples
    --------
    A run lasts at least as long as the sleep inside it; ``start`` begins the next run:

    >>> import time
    >>> from dlbook.meters import Timer
    >>> timer = Timer()  # the clock starts here
    >>> time.sleep(0.02)
    >>> timer.stop() >= 0.02
    True
    >>> timer.start()
    >>> time.sleep(0.01)
    >>> _ = timer.stop()
    >>> len(timer.times), timer.times[1] >= 0.01, timer.sum() >= 0.03
    (2, True, True)
    """

    def __init__(self):
        self.times = []
        self.start()

    def start(self):
        """Start (or restart) the clock."""
        self._start = time.perf_counter()

    def stop(self):
        """Stop the clock, record the elapsed seconds and return them."""
        self.times.append(time.perf_counter() - self._start)
        return self.times[-1]

    def avg(self):
        """Average of the recorded times (0.0 if none)."""
        return sum(self.times) / len(self.times) if self.times else 0.0

    def sum(self):
        """Total of the recorded times."""
        return float(sum(self.times))

    def cumsum(self):
        """Running totals of the recorded times."""
        return onp.cumsum(self.times).tolist()

    def __repr__(self):
        return f"Timer(runs={len(self.times)}, total={self.sum():.3f}s)"


class Accumulator:
    """Sum ``n`` quantities over many updates (for example loss and accuracy).

    Parameters
    ----------
    n : int
        Number of running sums to keep.

    Examples
    --------
    >>> from dlbook.meters import Accumulator
    >>> acc = Accumulator(2)
    >>> acc.add(1.0, 10)
    >>> acc.add(2.0, 20)
    >>> acc[0], acc[1]
    (3.0, 30.0)
    """

    def __init__(self, n):
        self.data = [0.0] * check_int("n", n, minimum=1)

    def add(self, *values):
        """Add one value to each running sum."""
        if len(values) != len(self.data):
            raise ValueError(
                f"Expected {len(self.data)} values for `values`, got {len(values)}."
            )
        self.data = [a + float(b) for a, b in zip(self.data, values)]

    def reset(self):
        """Set every running sum back to zero."""
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]

    def __repr__(self):
        return f"Accumulator({self.data})"
