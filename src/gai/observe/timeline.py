"""A run trace as a self-contained HTML timeline (no scripts, no network)."""

from __future__ import annotations

import html

from gai.types.trace import RunTrace

__all__ = ["render_timeline"]

_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1d2433; }
h1 { font-size: 18px; margin: 0 0 4px; }
.meta { color: #5b6478; margin-bottom: 16px; }
.stop { display: inline-block; padding: 2px 8px; border-radius: 4px; background: #e8eefc; }
.stop.error, .stop.cancelled { background: #fde8e8; }
/* Every row is the same three columns, so every lane has the same width: one time axis. */
.row { display: grid; grid-template-columns: 180px minmax(0, 1fr) 240px; align-items: center;
       min-height: 26px; border-bottom: 1px solid #f0f2f6; }
.axis-row { border-bottom: 1px solid #c8cedb; min-height: 18px; }
.axis { position: relative; height: 18px; }
.tick { position: absolute; top: 0; font-size: 11px; color: #5b6478; transform: translateX(-50%); }
.label { font-size: 12px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.label.step { font-weight: 600; }
.lane { position: relative; flex: 1; height: 22px; }
.bar { position: absolute; top: 3px; height: 16px; border-radius: 3px; min-width: 2px; }
.step-bar { background: #d7deec; }
.model-bar { background: #6b8de3; }
.tool-bar { background: #49a36d; }
.tool-bar.error { background: #d9534f; }
.detail { font-size: 11px; color: #5b6478; padding-left: 8px; white-space: nowrap;
          overflow: hidden; text-overflow: ellipsis; }
.error-text { grid-column: 2 / 4; font-size: 12px; color: #b52b27; padding: 0 0 4px;
              white-space: pre-wrap; overflow-wrap: anywhere; }
"""


def _pct(value: float, total: float) -> str:
    return f"{100.0 * value / total:.3f}%" if total > 0 else "0%"


def _bar(css: str, start: float, end: float, total: float, title: str) -> str:
    return (
        f'<div class="bar {css}" style="left:{_pct(start, total)};'
        f'width:{_pct(max(end - start, 0.0), total)}" title="{html.escape(title)}"></div>'
    )


def _cut(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more characters)"


def render_timeline(trace: RunTrace) -> str:
    """The trace as one HTML page: a row per step and per tool call, on one time axis."""
    total = trace.duration or 1e-9
    ticks = "".join(
        f'<span class="tick" style="left:{i * 20}%">{total * i / 5:.2f}s</span>' for i in range(6)
    )
    rows: list[str] = []
    for step in trace.steps:
        tokens = f"{step.usage.input_tokens} in / {step.usage.output_tokens} out"
        if step.usage.cache_read_tokens:
            tokens += f" ({step.usage.cache_read_tokens} cached)"
        notes = "".join(
            f" · {html.escape(note)}"
            for note in (
                f"reasoned {step.reasoning_chars} chars" if step.reasoning_chars else "",
                f"ran at the provider: {', '.join(step.hosted_tools)}" if step.hosted_tools else "",
                f"refused: {_cut(step.refusal, 120)}" if step.refusal is not None else "",
                f"context: {step.context}" if step.context is not None else "",
            )
            if note
        )
        retries = f", {step.attempts} attempts" if step.attempts > 1 else ""
        took, model_time = step.end - step.start, step.model_end - step.start
        label = f"step {step.step_number} · {html.escape(step.model or '')}"
        bars = _bar(
            "step-bar", step.start, step.end, total, f"step {step.step_number}: {took:.3f}s"
        )
        bars += _bar("model-bar", step.start, step.model_end, total, f"model {model_time:.3f}s")
        rows.append(
            f'<div class="row step-row" data-step="{step.step_number}">'
            f'<div class="label step">{label}</div><div class="lane">{bars}</div>'
            f'<span class="detail">{took:.2f}s · {tokens}{retries}{notes}</span></div>'
        )
        for tool in step.tools:
            css = "tool-bar error" if not tool.ok else "tool-bar"
            took = tool.end - tool.start
            title = f"{tool.name}: {took:.3f}s" + (f" — {tool.error}" if tool.error else "")
            flag = ' · <b style="color:#d9534f">error</b>' if tool.error else ""
            flag += "".join(f" · +{html.escape(media)}" for media in tool.files)
            error = (
                f'<div class="error-text">{html.escape(_cut(tool.error))}</div>'
                if tool.error
                else ""
            )
            rows.append(
                f'<div class="row tool-row"><div class="label">&nbsp;&nbsp;{html.escape(tool.name)}'
                f'</div><div class="lane">{_bar(css, tool.start, tool.end, total, title)}</div>'
                f'<span class="detail">{took:.2f}s{flag}</span>{error}</div>'
            )
    started = trace.started_at.isoformat(timespec="seconds") if trace.started_at else "unknown"
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>gai run {html.escape(trace.run_id)}</title><style>{_CSS}</style></head><body>"
        f"<h1>Run {html.escape(trace.run_id)}</h1>"
        f'<div class="meta">started {started} · {trace.duration:.2f}s · '
        f"{trace.usage.input_tokens} tokens in, {trace.usage.output_tokens} out · "
        f'<span class="stop {html.escape(trace.stop_kind)}">{html.escape(trace.stop_kind)}: '
        f"{html.escape(trace.stop_reason)}</span></div>"
        f'<div class="row axis-row"><div></div><div class="axis">{ticks}</div><div></div></div>'
        + "".join(rows)
        + "</body></html>"
    )
