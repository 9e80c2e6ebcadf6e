"""Observability: events to observers, metrics, a live monitor, traces, OpenTelemetry.

`PrometheusObserver` (extra `gai[prometheus]`) is in `gai.observe.prometheus`.
"""

from typing import TYPE_CHECKING, Any

from gai.observe.hub import Observer, instrument, instrumented
from gai.observe.metrics import ExecutionMetrics, step_cost
from gai.observe.monitor import ActiveRun, EventsDropped, Monitor, Subscription
from gai.observe.timeline import render_timeline
from gai.types.trace import RunTrace, TraceStep, TraceTool

if TYPE_CHECKING:
    from gai.observe.otel import OpenTelemetryObserver

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


def __getattr__(name: str) -> Any:
    # Imported on first use so `import gai` does not load OpenTelemetry.
    if name == "OpenTelemetryObserver":
        from gai.observe.otel import OpenTelemetryObserver

        return OpenTelemetryObserver
    raise AttributeError(f"module 'gai.observe' has no attribute {name!r}")
