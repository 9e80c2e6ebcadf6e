"""Observability: events to observers, metrics, a live monitor, traces, OpenTelemetry.

`PrometheusObserver` (extra `gai[prometheus]`) is in `gai.observe.prometheus`.
"""

from typing import TYPE_CHECKING, Any

from gai.observe.hub import Observer, instrument, instrumented

if TYPE_CHECKING:
    from gai.observe.metrics import ExecutionMetrics, step_cost
    from gai.observe.monitor import ActiveRun, EventsDropped, Monitor, Subscription
    from gai.observe.otel import OpenTelemetryObserver
    from gai.observe.timeline import render_timeline
    from gai.types.trace import RunTrace, TraceStep, TraceTool

__all__ = [
    "ActiveRun",
    "EventsDropped",
    "ExecutionMetrics",
    "Monitor",
    "Observer",
    "OpenTelemetryObserver",
    "RunTrace",
    "Subscription",
    "TraceStep",
    "TraceTool",
    "instrument",
    "instrumented",
    "render_timeline",
    "step_cost",
]


_LAZY = {
    "ActiveRun": "gai.observe.monitor",
    "EventsDropped": "gai.observe.monitor",
    "ExecutionMetrics": "gai.observe.metrics",
    "Monitor": "gai.observe.monitor",
    "OpenTelemetryObserver": "gai.observe.otel",
    "Subscription": "gai.observe.monitor",
    "RunTrace": "gai.types.trace",
    "TraceStep": "gai.types.trace",
    "TraceTool": "gai.types.trace",
    "render_timeline": "gai.observe.timeline",
    "step_cost": "gai.observe.metrics",
}


def __getattr__(name: str) -> Any:
    # Loaded on first use: the run loop imports this package, and most runs need none of
    # these (OpenTelemetry least of all).
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gai.observe' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
