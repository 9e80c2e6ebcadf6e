"""The seed's morning briefing: four lookups in parallel, then one email.

Runs on a scripted offline model by default. With GAI_MODEL set (e.g.
"openai:gpt-4o-mini", "ollama:llama3.2") it runs on that model; otherwise, when a
provider key is in the environment (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY),
on that provider's small model.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys

import gai
from gai import MaxSteps, ModelResponse, ToolCall, UntilToolSeen

SENT: list[dict[str, str]] = []


@gai.tool
async def get_weather(city: str) -> dict[str, object]:
    """Current weather for a city.

    Args:
        city: City name, e.g. "Lisbon".
    """
    await asyncio.sleep(0.40)
    return {"city": city, "temperature_c": 19, "conditions": "sunny, light breeze"}


@gai.tool
async def get_news(topic: str = "top stories", limit: int = 3) -> list[str]:
    """Today's headlines on a topic.

    Args:
        topic: What the headlines should be about.
        limit: How many headlines to return.
    """
    await asyncio.sleep(0.55)
    headlines = [
        "Central bank holds rates steady",
        "New battery chemistry doubles range",
        "City opens its tenth bike corridor",
        "Open-source model tops benchmark",
    ]
    return headlines[:limit]


@gai.tool
async def get_stock_prices(symbols: list[str]) -> dict[str, float]:
    """Latest prices for stock symbols.

    Args:
        symbols: Ticker symbols, e.g. ["AAPL", "MSFT"].
    """
    await asyncio.sleep(0.30)
    rng = random.Random(",".join(symbols))
    return {s: round(rng.uniform(80, 450), 2) for s in symbols}


@gai.tool
async def get_calendar(date: str = "today") -> list[dict[str, str]]:
    """Calendar events for a day.

    Args:
        date: "today" or an ISO date.
    """
    await asyncio.sleep(0.45)
    return [
        {"time": "09:30", "title": "Stand-up"},
        {"time": "14:00", "title": "Design review"},
    ]


@gai.tool
async def send_email(to: str, subject: str, body: str) -> str:
    """Send an email.

    Args:
        to: Recipient address.
        subject: Subject line.
        body: Plain-text body.
    """
    await asyncio.sleep(0.20)
    SENT.append({"to": to, "subject": subject, "body": body})
    return f"sent to {to}"


def scripted_model() -> gai.ScriptedModel:
    """What a capable model does with this job, replayed offline."""
    lookups = ModelResponse(
        text="Gathering weather, news, stocks and calendar in parallel.",
        tool_calls=(
            ToolCall(name="get_weather", arguments={"city": "Lisbon"}),
            ToolCall(name="get_news", arguments={"topic": "top stories", "limit": 3}),
            ToolCall(name="get_stock_prices", arguments={"symbols": ["AAPL", "MSFT", "NVDA"]}),
            ToolCall(name="get_calendar", arguments={"date": "today"}),
        ),
    )
    email = ModelResponse(
        text="Sending the briefing.",
        tool_calls=(
            ToolCall(
                name="send_email",
                arguments={
                    "to": "me@example.com",
                    "subject": "Your morning briefing",
                    "body": "Sunny in Lisbon, 19C. Rates steady; battery range doubled. "
                    "Stand-up 09:30, design review 14:00.",
                },
            ),
        ),
    )
    done = ModelResponse(text="Your morning briefing is in your inbox.")
    return gai.ScriptedModel([lookups, email, done], name="scripted:briefing")


def print_timeline(result: gai.TextResult) -> None:
    """Print tools, durations and tokens per step, then the stop reason."""
    print(f"{'step':>4}  {'model':>7}  {'tools':>7}  {'total':>7}  {'tokens':>6}  tool calls")
    for step in result.steps:
        calls = ", ".join(
            f"{r.name} {r.duration:.2f}s" + ("" if r.ok else " ERROR") for r in step.tool_results
        )
        print(
            f"{step.step_number:>4}  {step.model_duration:>6.2f}s  {step.tools_duration:>6.2f}s  "
            f"{step.duration:>6.2f}s  {step.usage.total_tokens:>6}  {calls or '-'}"
        )
        serial = sum(r.duration for r in step.tool_results)
        if len(step.tool_results) > 1:
            print(
                f"{'':>6}{len(step.tool_results)} tools in parallel: {serial:.2f}s of tool time "
                f"in {step.tools_duration:.2f}s of wall time"
            )
    print(f"usage: {result.usage.input_tokens} in, {result.usage.output_tokens} out")
    print(f"stopped: {result.stop_reason.kind} ({result.stop_reason.detail})")


KEYED_MODELS = (
    ("OPENAI_API_KEY", "openai:gpt-4o-mini"),
    ("ANTHROPIC_API_KEY", "anthropic:claude-haiku-4-5"),
    ("GEMINI_API_KEY", "gemini:gemini-2.5-flash"),
    ("GOOGLE_API_KEY", "gemini:gemini-2.5-flash"),
)


def pick_model() -> gai.Model | str:
    """GAI_MODEL, else the first provider with a key in the environment, else offline."""
    if named := os.environ.get("GAI_MODEL"):
        return named
    for env_var, model in KEYED_MODELS:
        if os.environ.get(env_var):
            return model
    return scripted_model()


async def main() -> int:
    try:
        return await run(pick_model())
    except gai.GaiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.partial_result is not None and exc.partial_result.steps:
            print_timeline(exc.partial_result)
        return 1


async def run(model: gai.Model | str) -> int:
    # GAI_STORE=runs.db keeps the run, step by step, for `gai ui --store runs.db`.
    store = (
        await gai.store.open_store(os.environ["GAI_STORE"]) if "GAI_STORE" in os.environ else None
    )
    try:
        result = await gai.generate_text(
            model,
            system="You can call several tools at once when the tasks are independent.",
            prompt="Create my morning briefing for Lisbon: weather, top news, prices of AAPL, "
            "MSFT and NVDA, and today's calendar; then email the summary to me@example.com.",
            tools=[get_weather, get_news, get_stock_prices, get_calendar, send_email],
            stop_when=UntilToolSeen("send_email") | MaxSteps(5),
            run_store=store,
        )
    finally:
        if store is not None:
            await store.aclose()
    print(f"model: {result.steps[0].model}\n")
    print_timeline(result)
    for mail in SENT:
        print(f"\nemail to {mail['to']}: {mail['subject']}\n  {mail['body']}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
