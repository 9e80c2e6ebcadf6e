"""The seed's multi-agent coordination, three ways.

1. Sequential: researcher, analyst and writer in turn, each seeing the others' results.
2. Hand-off: a triage agent transfers the conversation to a specialist.
3. Agent as tool: a manager delegates a sub-task to a specialist through a tool call.

Each agent's usage is reported on its own.
"""

from __future__ import annotations

import asyncio

from _shared import pick_model, tool_outputs

import gai
from gai.workflows import Agent, run_sequential, run_with_handoffs


def role_model(name: str, answer: str) -> gai.Model:
    """An offline stand-in for an agent that always gives one answer."""
    return gai.models.FunctionModel(lambda messages, tools: answer, name=f"offline:{name}")


def triage(messages, tools) -> gai.ModelResponse:
    return gai.ModelResponse(
        tool_calls=(gai.ToolCall(name="transfer_to_billing", arguments={"note": "double charge"}),)
    )


def manager(messages, tools) -> gai.ModelResponse | str:
    results = tool_outputs(messages)
    if not results:
        task = {"task": "Estimate Q4 revenue from 446 units at $30."}
        return gai.ModelResponse(tool_calls=(gai.ToolCall(name="ask_analyst", arguments=task),))
    return f"Board summary: {results[0][1]}"


async def main() -> None:
    researcher = Agent(
        "researcher",
        "finds facts",
        pick_model(role_model("researcher", "Sales: 446 units in October.")),
    )
    analyst = Agent(
        "analyst",
        "analyses numbers",
        pick_model(role_model("analyst", "Q4 revenue about $40k.")),
    )
    writer = Agent(
        "writer", "writes summaries", pick_model(role_model("writer", "October was strong."))
    )

    print("== sequential")
    team = await run_sequential([researcher, analyst, writer], "Summarise October sales.")
    for turn in team.turns:
        print(f"{turn.agent}: {turn.result.text}")

    print("== hand-off")
    front = Agent(
        "triage", "routes customer questions", pick_model(gai.models.FunctionModel(triage))
    )
    billing = Agent(
        "billing", "refunds and invoices", pick_model(role_model("billing", "Refund issued."))
    )
    handled = await run_with_handoffs([front, billing], "I was charged twice.")
    print(" -> ".join(t.agent for t in handled.turns), f": {handled.text}")

    print("== agent as tool")
    boss = Agent(
        "manager",
        "delegates",
        pick_model(gai.models.FunctionModel(manager)),
        tools=[analyst.as_tool()],
    )
    print((await boss.run("Prepare the board summary.")).text)

    print("== usage by agent")
    for agent in (researcher, analyst, writer, front, billing, boss):
        print(f"{agent.name}: {len(agent.results)} runs, {agent.usage.total_tokens} tokens")


if __name__ == "__main__":
    asyncio.run(main())
