"""Units of metrics, read from the metric name's suffix.

Metric names carry their unit (``energy_uj``, ``latency_cycles``, ``area_mm2``) so that logged data can
never mix units; this module turns the suffix into a printable unit.

>>> unit_of("energy_uj")
'uJ'
>>> unit_of("row_hit_rate")
'ratio'
"""
from __future__ import annotations

# Longest suffix first so `_mj` does not shadow `_uj` etc.
SUFFIX_UNITS: dict[str, str] = {
    "_cycles": "cycles",
    "_pj": "pJ", "_nj": "nJ", "_uj": "uJ", "_mj": "mJ", "_j": "J",
    "_um2": "um^2", "_mm2": "mm^2",
    "_mw": "mW", "_w": "W",
    "_ns": "ns", "_us": "us", "_ms": "ms", "_s": "s",
    "_gbps": "GB/s", "_gb": "GB", "_mb": "MB", "_kb": "KB", "_bytes": "bytes",
    "_uj_ms": "uJ*ms", "_uj_cycles": "uJ*cycles",
    "_rate": "ratio", "_ratio": "ratio", "_pct": "%", "_count": "count", "_params": "count",
    "_mhz": "MHz", "_ghz": "GHz", "_bits": "bits", "_nm": "nm",
}
BARE_UNITS: dict[str, str] = {"utilization": "ratio", "accuracy": "ratio", "reward": "1"}


def unit_of(metric: str) -> str | None:
    """The unit a metric name declares, or None when it declares none."""
    if metric in BARE_UNITS:
        return BARE_UNITS[metric]
    for suffix in sorted(SUFFIX_UNITS, key=len, reverse=True):
        if metric.endswith(suffix):
            return SUFFIX_UNITS[suffix]
    return None
