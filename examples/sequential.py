"""The seed's sequential workflow: get, process, analyze, report, one tool per step."""

from __future__ import annotations

import asyncio

from _shared import pick_model, print_steps, tool_outputs

import gai

# Each tool of the pipeline, with the argument that receives the previous step's output.
PIPELINE = {
    "get_sales_data": "month",
    "process_data": "data",
    "analyze_trends": "summary",
    "generate_report": "findings",
}


@gai.tool
def get_sales_data(month: str) -> dict[str, int]:
    """Raw sales for a month, by region."""
    return {"north": 120, "south": 95, "east": 143, "west": 88}


@gai.tool
def process_data(data: str) -> str:
    """Clean and total the raw sales."""
    return "total 446 units; 4 regions; no gaps"


@gai.tool
def analyze_trends(summary: str) -> str:
    """Find trends in processed sales."""
    return "east leads (+12% m/m); west lags (-5%)"


@gai.tool
def generate_report(findings: str) -> str:
    """Write the monthly report."""
    return f"REPORT: {findings}"


def offline(messages, tools) -> gai.ModelResponse | str:
    """Calls the next tool of the pipeline with the previous tool's output."""
    done = tool_outputs(messages)
    if len(done) == len(PIPELINE):
        return f"Monthly report ready. {done[-1][1]}"
    name = list(PIPELINE)[len(done)]
    previous = done[-1][1] if done else "2026-10"
    return gai.ModelResponse(
        tool_calls=(gai.ToolCall(name=name, arguments={PIPELINE[name]: previous}),)
    )


async def main() -> None:
    result = await gai.generate_text(
        pick_model(gai.models.FunctionModel(offline, name="offline:sequential")),
        system="Execute tasks sequentially, one tool per step.",
        prompt="Generate the monthly sales report: 1) get data 2) process 3) analyze 4) report.",
        tools=[get_sales_data, process_data, analyze_trends, generate_report],
        stop_when=gai.MaxSteps(8) | gai.UntilToolSeen("generate_report"),
    )
    print_steps(result)


if __name__ == "__main__":
    asyncio.run(main())
