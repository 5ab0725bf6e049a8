"""Counters, gauges and histograms of the per-call metrics as plain numbers, read when
scraped.

prometheus_client's `Counter.inc` and `Histogram.observe` check the metric and take a lock
on every call: seven of them per model call were a tenth of the fast path's work. These
families keep a cell (a list of floats) per label set, added to in place by the event
loop, the only writer, and are given to the registry as a custom collector, which turns
them into the same exposition (`_total`; `_bucket`, `_count`, `_sum`) at scrape time.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString


class CounterCells:
    """A counter by label values; a cell is `[total]`."""

    family_type: type[CounterMetricFamily] | type[GaugeMetricFamily] = CounterMetricFamily

    def __init__(self, name: str, documentation: str, labels: Sequence[str]) -> None:
        self.name = name
        self.documentation = documentation
        self.labels = list(labels)
        self._cells: dict[tuple[str, ...], list[float]] = {}

    def cell(self, *values: str) -> list[float]:
        """The cell of one label set (made at 0 the first time): `cell[0] += n` counts."""
        found = self._cells.get(values)
        if found is None:
            found = self._cells[values] = [0.0]
        return found

    def family(self) -> Metric:
        family = self.family_type(self.name, self.documentation, labels=self.labels)
        for values, cell in list(self._cells.items()):
            family.add_metric(list(values), cell[0])
        return family


class GaugeCells(CounterCells):
    """A gauge by label values; a cell is `[value]`, set with `cell[0] = value`."""

    family_type = GaugeMetricFamily


class HistogramCells:
    """A histogram by label values; a cell is a count per bucket (the last, +Inf), then
    the sum of what was observed."""

    family_type = HistogramMetricFamily

    def __init__(self, name: str, documentation: str, labels: Sequence[str],
                 buckets: Sequence[float]) -> None:
        self.name = name
        self.documentation = documentation
        self.labels = list(labels)
        self.buckets = tuple(buckets)
        self._cells: dict[tuple[str, ...], list[float]] = {}

    def cell(self, *values: str) -> list[float]:
        found = self._cells.get(values)
        if found is None:
            found = self._cells[values] = [0.0] * (len(self.buckets) + 2)
        return found

    def observe(self, cell: list[float], value: float) -> None:
        cell[bisect_left(self.buckets, value)] += 1  # the first bucket with `le` >= value
        cell[-1] += value

    def family(self) -> Metric:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labels)
        bounds = [*(floatToGoString(bucket) for bucket in self.buckets),  # type: ignore[no-untyped-call]
                  "+Inf"]
        for values, cell in list(self._cells.items()):
            counts, running = [], 0.0
            for bound, count in zip(bounds, cell, strict=False):
                running += count
                counts.append((bound, running))
            family.add_metric(list(values), counts, sum_value=cell[-1])
        return family


class CellsCollector(Collector):
    """The registry's view of some cells (counters, gauges, histograms): each family, as
    it stands at the scrape."""

    def __init__(self, families: Sequence[CounterCells | HistogramCells]) -> None:
        self._families = list(families)

    def collect(self) -> Iterator[Metric]:
        for cells in self._families:
            yield cells.family()

    def describe(self) -> Iterator[Metric]:
        """The families' names, without samples (what the registry checks for clashes)."""
        for cells in self._families:
            yield cells.family_type(cells.name, cells.documentation, labels=cells.labels)
