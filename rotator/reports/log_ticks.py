"""Ticks for a log price axis: round values, at least three labels, none over another.

matplotlib's own log ticks label only the decades (one label between 3,000 and 70,000, none
between 30,000 and 60,000), and labelling its minor ticks too labels every 2-9 multiple, which
piles up ("10,000 9,000 8,000" below a decade). `LogSteps` takes the sparsest of 10^k,
{1, 3}·10^k, {1, 2, 5}·10^k, {1, 2, 3, 5}·10^k and {1, ..., 9}·10^k that puts four ticks in
view with room for a label between each two; a range too short for that (30,000 to 45,000)
gets evenly spaced round values (MaxNLocator), nearly even on so short a log axis; three
labels when four do not fit. Imported only when a chart is drawn: matplotlib stays out of the
CLI's start-up."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.ticker import Locator, MaxNLocator

STEPS: tuple[tuple[float, ...], ...] = (
    (1.0,),
    (1.0, 3.0),
    (1.0, 2.0, 5.0),
    (1.0, 2.0, 3.0, 5.0),
    (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0),
)
WANT = 4  # labelled ticks in view, when they fit
LEAST = 3  # ... and when they do not, at least these
ROOM = 1.3  # a label's height is about one font size: this leaves air between two labels


class LogSteps(Locator):
    """Major ticks of a log axis at round values (see the module docstring)."""

    def __call__(self) -> Any:
        if self.axis is None:
            return []
        vmin, vmax = self.axis.get_view_interval()
        return self.tick_values(vmin, vmax)

    def tick_values(self, vmin: float, vmax: float) -> Any:
        low, high = sorted((float(vmin), float(vmax)))
        if not (low > 0 and math.isfinite(high)) or high / low < 1.0001:
            return MaxNLocator(nbins=4).tick_values(low, high)
        span = math.log10(high / low)
        gap = span * self._min_gap_fraction()  # the least log10 distance between two labels
        decades = range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1)
        best = None  # the uncrowded choice with the most ticks, when none has WANT
        for subs in STEPS:
            ticks = np.array([s * 10.0**k for k in decades for s in subs])
            inside = ticks[(ticks >= low) & (ticks <= high)]
            if not len(inside) or (len(inside) > 1 and np.diff(np.log10(inside)).min() < gap):
                continue
            if len(inside) >= WANT:
                return inside
            if best is None or len(inside) > len(best):
                best = inside
        linear = self._linear(low, high, gap)
        if linear is not None and len(linear) >= WANT:
            return linear
        for choice in (best, linear):
            if choice is not None and len(choice) >= LEAST:
                return choice
        # Too many decades for a label each: every n-th decade, as matplotlib's LogLocator.
        return best if best is not None else _decades(low, high, gap)

    def _min_gap_fraction(self) -> float:
        """The least distance between two labels as a fraction of the axis length."""
        if self.axis is None:
            return 0.1
        # get_tick_space(): the axis length over twice the label size (matplotlib's own
        # measure of how many labels fit); ROOM label sizes are then this fraction of it.
        return ROOM / (2 * max(self.axis.get_tick_space(), 1))

    @staticmethod
    def _linear(low: float, high: float, gap: float) -> Any:
        """Evenly spaced round values: the fewest bins that give WANT labels (else LEAST) with
        room between each two."""
        fallback = None
        for bins in range(2, 9):
            locator = MaxNLocator(nbins=bins, steps=[1, 2, 2.5, 5, 10])
            ticks = np.asarray(locator.tick_values(low, high), dtype=float)
            inside = ticks[(ticks >= low) & (ticks <= high) & (ticks > 0)]
            if len(inside) < LEAST or np.diff(np.log10(inside)).min() < gap:
                continue
            if len(inside) >= WANT:
                return inside
            fallback = fallback if fallback is not None else inside
        return fallback


def _decades(low: float, high: float, gap: float) -> Any:
    stride = max(1, math.ceil(gap))
    first, last = math.ceil(math.log10(low)), math.floor(math.log10(high))
    return np.array([10.0**k for k in range(first, last + 1, stride)])
