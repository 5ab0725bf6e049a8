"""The per-call metric cells are exposed exactly as prometheus_client's own Counter and
Histogram would expose the same observations (less the `_created` samples)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from relaygate.observability.cells import CellsCollector, CounterCells, HistogramCells

BUCKETS = (0.005, 0.1, 1, 30)
VALUES = (0.001, 0.005, 0.0051, 0.1, 0.7, 1.0, 29.0, 31.0, 400.0)


def _lines(registry: CollectorRegistry) -> list[str]:
    text = generate_latest(registry).decode()
    return sorted(line for line in text.splitlines() if "_created" not in line)


def test_cells_expose_what_the_library_metrics_would() -> None:
    library, cells = CollectorRegistry(), CollectorRegistry()
    counter = Counter("calls", "Calls.", ["model", "status"], registry=library)
    histogram = Histogram("seconds", "Time.", ["provider"], buckets=BUCKETS, registry=library)
    counter_cells = CounterCells("calls", "Calls.", ["model", "status"])
    histogram_cells = HistogramCells("seconds", "Time.", ["provider"], BUCKETS)
    cells.register(CellsCollector([counter_cells, histogram_cells]))

    for index, value in enumerate(VALUES):
        status = "200" if index % 3 else "502"
        counter.labels("gpt", status).inc(index)
        counter_cells.cell("gpt", status)[0] += index
        provider = "a" if index % 2 else "b"
        histogram.labels(provider).observe(value)
        histogram_cells.observe(histogram_cells.cell(provider), value)

    assert _lines(cells) == _lines(library)
    assert 'seconds_bucket{le="0.1",provider="a"} 2.0' in _lines(cells)  # 0.005 and 0.1: `le` holds


def test_a_second_family_of_the_same_name_is_refused() -> None:
    registry = CollectorRegistry()
    registry.register(CellsCollector([CounterCells("calls", "Calls.", ["model"])]))
    try:
        Counter("calls", "Calls.", ["model"], registry=registry)
    except ValueError as error:
        assert "Duplicated timeseries" in str(error)
    else:
        raise AssertionError("a clashing name was registered")
