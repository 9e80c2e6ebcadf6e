"""Observability: events to observers, metrics, a live monitor, traces, OpenTelemetry."""

from gai.observe.hub import Observer, instrument, instrumented

__all__ = ["Observer", "instrument", "instrumented"]
