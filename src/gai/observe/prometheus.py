"""Prometheus counters and histograms fed by run events (extra: prometheus)."""

from __future__ import annotations

from gai.errors import MissingExtraError
from gai.types import (
    ModelCallFinished,
    RunEvent,
    RunFailed,
    RunFinished,
    StepFinished,
    ToolFinished,
)

try:
    from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("prometheus-client", "prometheus") from exc

__all__ = ["PrometheusObserver"]

_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)


class PrometheusObserver:
    """Counts runs, steps, tool calls, errors and tokens, and times steps, calls and tools.

    Args:
        registry: Where the metrics live; defaults to a registry of their own.
        prefix: Metric name prefix.
    """

    def __init__(self, registry: CollectorRegistry | None = None, *, prefix: str = "gai") -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.runs = Counter(
            f"{prefix}_runs", "Runs ended, by outcome.", ["outcome", "stop_kind"], registry=r
        )
        self.steps = Counter(f"{prefix}_steps", "Steps completed.", ["model"], registry=r)
        self.tool_calls = Counter(
            f"{prefix}_tool_calls",
            "Tool calls, by tool and outcome.",
            ["tool", "outcome"],
            registry=r,
        )
        self.tokens = Counter(
            f"{prefix}_tokens",
            "Tokens used, by model and direction (input, output; of those, cache_read, "
            "cache_write and reasoning).",
            ["model", "direction"],
            registry=r,
        )
        self.model_retries = Counter(
            f"{prefix}_model_retries", "Model calls retried.", ["model"], registry=r
        )
        self.step_seconds = Histogram(
            f"{prefix}_step_duration_seconds",
            "Step wall time.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.model_seconds = Histogram(
            f"{prefix}_model_call_duration_seconds",
            "Model call latency.",
            ["model"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.tool_seconds = Histogram(
            f"{prefix}_tool_duration_seconds",
            "Tool call duration.",
            ["tool"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )

    def __call__(self, event: RunEvent) -> None:
        """Count and time one event."""
        if isinstance(event, ModelCallFinished):
            self.model_seconds.labels(event.model).observe(event.duration)
            usage = event.usage
            self.tokens.labels(event.model, "input").inc(usage.input_tokens)
            self.tokens.labels(event.model, "output").inc(usage.output_tokens)
            # Parts of the two above, counted apart only when there are any.
            for direction, count in (
                ("cache_read", usage.cache_read_tokens),
                ("cache_write", usage.cache_write_tokens),
                ("reasoning", usage.reasoning_tokens),
            ):
                if count:
                    self.tokens.labels(event.model, direction).inc(count)
            if event.attempts > 1:
                self.model_retries.labels(event.model).inc(event.attempts - 1)
        elif isinstance(event, ToolFinished):
            outcome = "ok" if event.result.ok else "error"
            self.tool_calls.labels(event.result.name, outcome).inc()
            self.tool_seconds.labels(event.result.name).observe(event.result.duration)
        elif isinstance(event, StepFinished):
            self.steps.labels(event.step.model or "unknown").inc()
            self.step_seconds.observe(event.step.duration)
        elif isinstance(event, RunFinished):
            self.runs.labels("completed", event.result.stop_reason.kind).inc()
        elif isinstance(event, RunFailed):
            self.runs.labels("failed", event.partial_result.stop_reason.kind).inc()

    def serve(self, port: int, addr: str = "127.0.0.1") -> None:
        """Serve the metrics at http://addr:port/metrics from a background thread."""
        start_http_server(port, addr=addr, registry=self.registry)
