"""Multi-agent workflows: agents in sequence, hand-off through a tool call, agents as tools.

An `Agent` is a model with a role, instructions and tools. Every run an agent makes is
kept on `agent.results`, so steps and usage stay attributable to the agent that spent
them, however the agents were combined.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gai.engine.sync import sync_twin
from gai.errors import HandoffLimitError, UserError
from gai.providers.base import Model
from gai.stop import MaxSteps, UntilToolSeen, any_of
from gai.tools import Tool
from gai.types import TextResult, Usage

__all__ = [
    "Agent",
    "AgentTurn",
    "MultiAgentResult",
    "run_sequential",
    "run_sequential_sync",
    "run_with_handoffs",
    "run_with_handoffs_sync",
]

_HANDOFF_PREFIX = "transfer_to_"


@dataclass(eq=False)
class Agent:
    """A model with a role, instructions and tools.

    Args:
        name: Unique name (letters, digits, `_`); results and hand-off tools use it.
        role: One line: what this agent is for (shown to agents that can call it).
        model: The model this agent runs on.
        tools: Its tools.
        instructions: Its system prompt, after the role.
        max_steps: Step limit of each of its runs.
    """

    name: str
    role: str
    model: Model | str
    tools: Sequence[Tool] = ()
    instructions: str = ""
    max_steps: int = 10
    results: list[TextResult] = field(default_factory=list, init=False, repr=False)
    """Every run this agent made, in order."""

    def __post_init__(self) -> None:
        if not self.name.replace("_", "").isalnum():
            raise UserError(
                f"Agent name {self.name!r} must be letters, digits and underscores "
                f"(it becomes part of tool names)."
            )

    @property
    def system_prompt(self) -> str:
        """The role, then the instructions."""
        head = f"You are {self.name}: {self.role}"
        return f"{head}\n\n{self.instructions}" if self.instructions else head

    @property
    def usage(self) -> Usage:
        """Usage summed over every run of this agent."""
        return sum((r.usage for r in self.results), Usage())

    async def run(
        self,
        task: str,
        *,
        context: Mapping[str, str] | None = None,
        extra_tools: Sequence[Tool] = (),
        stop_when: Any = None,
        **options: Any,
    ) -> TextResult:
        """One multi-step run of this agent on `task`.

        Args:
            task: What to do.
            context: Named results of other agents, shown before the task.
            extra_tools: More tools for this run only (hand-off tools).
            stop_when: A stop condition besides `max_steps`.
            **options: More `generate_text` options.
        """
        from gai.engine.run import generate_text

        prompt = task
        if context:
            shown = "\n\n".join(f"## {name}\n{text}" for name, text in context.items())
            prompt = f"Results so far:\n\n{shown}\n\n# Task\n{task}"
        limit = MaxSteps(self.max_steps)
        result = await generate_text(
            self.model,
            prompt=prompt,
            system=self.system_prompt,
            tools=[*self.tools, *extra_tools],
            stop_when=any_of(limit, stop_when) if stop_when is not None else limit,
            **options,
        )
        self.results.append(result)
        return result

    run_sync = sync_twin(run)

    def as_tool(self, description: str | None = None) -> Tool:
        """This agent as a tool another agent can call with a `task`; answers its text."""

        async def delegate(task: str) -> str:
            return (await self.run(task)).text

        return Tool(
            name=f"ask_{self.name}",
            description=description or f"Ask {self.name} ({self.role}) to do a task.",
            fn=delegate,
        )


@dataclass(frozen=True, slots=True)
class AgentTurn:
    """One agent's run within a multi-agent workflow."""

    agent: str
    result: TextResult


@dataclass(frozen=True, slots=True)
class MultiAgentResult:
    """The turns of a multi-agent workflow, in order."""

    turns: list[AgentTurn]

    @property
    def text(self) -> str:
        """The last turn's answer."""
        return self.turns[-1].result.text if self.turns else ""

    @property
    def results(self) -> dict[str, str]:
        """Each agent's last answer, by agent name."""
        return {t.agent: t.result.text for t in self.turns}

    def usage_by_agent(self) -> dict[str, Usage]:
        """Usage of this workflow's turns, per agent."""
        totals: dict[str, Usage] = {}
        for turn in self.turns:
            totals[turn.agent] = totals.get(turn.agent, Usage()) + turn.result.usage
        return totals

    @property
    def usage(self) -> Usage:
        """Usage of every turn."""
        return sum((t.result.usage for t in self.turns), Usage())


def _unique(agents: Sequence[Agent]) -> dict[str, Agent]:
    by_name = {a.name: a for a in agents}
    if len(by_name) != len(agents):
        raise UserError("Agents of one workflow need distinct names.")
    return by_name


async def run_sequential(agents: Sequence[Agent], task: str, **options: Any) -> MultiAgentResult:
    """The seed's sequential multi-agent workflow: each agent in turn.

    Each agent sees the named results of the agents before it. `options` go to every
    agent's `generate_text`.
    """
    _unique(agents)
    turns: list[AgentTurn] = []
    for agent in agents:
        context = {t.agent: t.result.text for t in turns}
        turns.append(AgentTurn(agent.name, await agent.run(task, context=context, **options)))
    return MultiAgentResult(turns)


def _handoff_tool(target: Agent) -> Tool:
    async def transfer(note: str = "") -> str:
        return f"Transferred to {target.name}."

    return Tool(
        name=f"{_HANDOFF_PREFIX}{target.name}",
        description=f"Hand the conversation to {target.name} ({target.role}); "
        f"`note` says what they should do.",
        fn=transfer,
    )


async def run_with_handoffs(
    agents: Sequence[Agent],
    task: str,
    *,
    start: str | None = None,
    max_handoffs: int = 5,
    **options: Any,
) -> MultiAgentResult:
    """Hand-offs: agents pass control to each other through tool calls.

    The first agent runs with a `transfer_to_<name>` tool per other agent; calling one
    ends its turn and starts that agent's, with the note it gave. The workflow ends when
    an agent answers without handing off.

    Args:
        agents: Every agent that can take part.
        task: The user's task.
        start: Name of the first agent (default the first of `agents`).
        max_handoffs: Hand-offs allowed before the workflow is stopped.
        **options: More `generate_text` options for every turn.

    Raises:
        UserError: `start` names no agent.
        HandoffLimitError: The agents handed off more than `max_handoffs` times; its
            `turns` holds every turn that ran.
    """
    by_name = _unique(agents)
    current = by_name.get(start or agents[0].name)
    if current is None:
        raise UserError(f"No agent named {start!r}; agents: {', '.join(by_name)}.")
    turns: list[AgentTurn] = []
    note = ""
    while True:
        others = [a for a in agents if a is not current]
        transfers = [_handoff_tool(a) for a in others]
        prompt = task if not note else f"{task}\n\nHand-off note: {note}"
        context = {t.agent: t.result.text for t in turns if t.result.text}
        result = await current.run(
            prompt,
            context=context,
            extra_tools=transfers,
            stop_when=any_of(*(UntilToolSeen(t.name) for t in transfers)) if transfers else None,
            **options,
        )
        turns.append(AgentTurn(current.name, result))
        handoff = next(
            (
                call
                for step in reversed(result.steps)
                for call in step.tool_calls
                if call.name.startswith(_HANDOFF_PREFIX)
            ),
            None,
        )
        if handoff is None:
            return MultiAgentResult(turns)
        if len(turns) > max_handoffs:
            raise HandoffLimitError(max_handoffs, turns)
        current = by_name[handoff.name.removeprefix(_HANDOFF_PREFIX)]
        note = str(handoff.arguments.get("note", ""))


run_sequential_sync = sync_twin(run_sequential)
run_with_handoffs_sync = sync_twin(run_with_handoffs)
