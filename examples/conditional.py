"""The seed's conditional workflow: check health; fail over and alert only if needed.

The branch taken depends on what the health check returns, and the run stops when a
tool reports the goal state SYSTEM_STABLE.
"""

from __future__ import annotations

import asyncio
import sys

from _shared import pick_model, print_steps, tool_outputs

import gai
from gai.stop import ToolResultMatches


@gai.tool
def check_health(service: str) -> dict[str, str]:
    """Health of a service: status is ok, degraded or critical."""
    return {"service": service, "status": "critical" if service == "db" else "ok"}


@gai.tool
def analyze_logs(service: str) -> str:
    """Find the cause of a failure in a service's logs."""
    return f"{service}: disk full on primary"


@gai.tool
def failover(service: str) -> str:
    """Switch a service to its standby."""
    return f"{service} on standby; SYSTEM_STABLE"


@gai.tool
def notify(message: str) -> str:
    """Alert the on-call engineer."""
    return "paged on-call"


def offline(messages, tools) -> gai.ModelResponse | str:
    """Branches on the health check, as the system prompt asks."""
    done = dict(tool_outputs(messages))
    call = gai.ToolCall
    if "check_health" not in done:
        return gai.ModelResponse(
            tool_calls=(call(name="check_health", arguments={"service": "db"}),)
        )
    if '"critical"' in done["check_health"] and "analyze_logs" not in done:
        return gai.ModelResponse(
            tool_calls=(
                call(name="analyze_logs", arguments={"service": "db"}),
                call(name="notify", arguments={"message": "db critical"}),
            )
        )
    if "failover" not in done and '"ok"' not in done["check_health"]:
        return gai.ModelResponse(tool_calls=(call(name="failover", arguments={"service": "db"}),))
    return "All services healthy."


async def main() -> int:
    result = await gai.generate_text(
        pick_model(gai.models.FunctionModel(offline, name="offline:conditional")),
        system="You are a system administrator. Check health and act on the results.",
        prompt="Check db health. If degraded, fail over and alert. If critical, also analyze logs.",
        tools=[check_health, analyze_logs, failover, notify],
        stop_when=gai.MaxSteps(15) | ToolResultMatches("failover", r"SYSTEM_STABLE"),
    )
    print_steps(result)
    return 0 if result.stop_reason.kind in ("condition", "no_more_tools") else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
