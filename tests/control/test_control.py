"""Budgets, continue_when, loop guards, tool scheduling, stop tokens, human approval."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import gai
from gai import Budget, ContinueWhen, MaxSteps, ModelResponse, ToolCall, UntilToolSeen, tool
from gai.control import Guard, PingPong, RepeatedCall, StagnantResults
from gai.store import MemoryStore, SQLiteStore
from gai.tools import clear_limits, set_global_tool_limit, set_group_limit


def calls(*names: str, usage: int = 10, **args) -> ModelResponse:
    return ModelResponse(
        tool_calls=tuple(ToolCall(name=n, arguments=args.get(n, {})) for n in names),
        usage=gai.Usage(input_tokens=usage, output_tokens=usage),
    )


@tool
def search(query: str = "x") -> str:
    """Search."""
    return f"results for {query}"


@tool
def fetch() -> str:
    """Fetch."""
    return "page"


def looping(*names: str) -> gai.models.FunctionModel:
    """A model that never stops calling tools (what budgets exist for)."""
    count = 0

    def fn(messages, tools):
        nonlocal count
        count += 1
        if not tools or (
            all(p.is_error for m in messages[-1:] for p in m.tool_results) and count > 50
        ):
            return "final answer from what I have"
        return calls(*names, search={"query": f"q{count}"})

    return gai.models.FunctionModel(fn)


# --- budgets -----------------------------------------------------------------------------


async def test_hard_token_budget_returns_the_partial_result_with_the_limit_named():
    result = await gai.generate_text(
        looping("search"),
        prompt="x",
        tools=[search],
        stop_when=MaxSteps(100),
        budget=Budget(max_total_tokens=100),
    )
    assert result.stop_reason.kind == "budget"
    assert result.stop_reason.detail.startswith("max_total_tokens: used ")
    assert result.usage.total_tokens >= 100
    assert len(result.steps) == len(result.steps)  # steps are all there
    assert all(s.tool_results for s in result.steps)


async def test_budget_can_raise_with_the_partial_result():
    with pytest.raises(gai.BudgetExceededError, match="max_steps: used 3 of 3") as info:
        await gai.generate_text(
            looping("search"), prompt="x", tools=[search], stop_when=MaxSteps(100),
            budget=Budget(max_steps=3, on_budget="raise"),
        )  # fmt: skip
    assert info.value.partial_result is not None
    assert len(info.value.partial_result.steps) == 3
    assert info.value.partial_result.stop_reason.kind == "budget"


async def test_soft_limit_warns_once_and_prepare_step_sees_what_is_left():
    events: list[gai.RunEvent] = []
    left: list[dict[str, float] | None] = []

    def prepare(run: gai.RunState) -> None:
        left.append(run.budget_left)

    await gai.generate_text(
        looping("search"), prompt="x", tools=[search], stop_when=MaxSteps(100),
        budget=Budget(max_steps=5, soft_ratio=0.6), observers=[events.append], prepare_step=prepare,
    )  # fmt: skip
    warnings = [e for e in events if isinstance(e, gai.types.BudgetWarning)]
    assert [(w.limit, w.used, w.maximum, w.step_number) for w in warnings] == [
        ("max_steps", 3.0, 5.0, 3)
    ]
    assert left[0] is None
    assert left[1] == {"max_steps": 4.0}
    assert left[-1] == {"max_steps": 1.0}


async def test_wrap_up_step_runs_without_tools_and_the_model_answers():
    requests: list[gai.ModelRequest] = []

    def fn(messages, tools):
        return calls("search")

    class Recording(gai.models.FunctionModel):
        async def generate(self, request: gai.ModelRequest) -> ModelResponse:
            requests.append(request)
            if request.tool_choice == "none":
                return ModelResponse(
                    text="summary of what I found", usage=gai.Usage(input_tokens=5)
                )
            return await super().generate(request)

    result = await gai.generate_text(
        Recording(fn),
        prompt="x",
        tools=[search],
        stop_when=MaxSteps(100),
        budget=Budget(max_steps=4, wrap_up=True),
    )
    assert len(result.steps) == 4
    assert [r.tool_choice for r in requests] == ["auto", "auto", "auto", "none"]
    assert result.text == "summary of what I found"
    assert result.stop_reason.kind == "budget"
    assert "wrap-up step ran without tools before max_steps" in result.stop_reason.detail


async def test_per_tool_limit_blocks_only_that_tool():
    model = gai.ScriptedModel(
        [calls("search", "fetch"), calls("search", "fetch"), calls("search", "fetch"), "done"]
    )
    result = await gai.generate_text(
        model,
        prompt="x",
        tools=[search, fetch],
        stop_when=MaxSteps(10),
        budget=Budget(per_tool={"search": 2}),
    )
    search_results = [r for r in result.tool_results if r.name == "search"]
    assert [r.ok for r in search_results] == [True, True, False]
    assert "reached its budget of 2 call(s)" in (search_results[2].error or "")
    assert all(r.ok for r in result.tool_results if r.name == "fetch")
    assert result.text == "done"


async def test_max_tool_calls_and_model_calls():
    model = gai.ScriptedModel([calls("search", "search", "search"), "unused"])
    result = await gai.generate_text(
        model, prompt="x", tools=[search], stop_when=MaxSteps(10), budget=Budget(max_tool_calls=2)
    )
    assert [r.ok for r in result.tool_results] == [True, True, False]
    assert result.stop_reason.kind == "budget"
    assert "max_tool_calls: used 3 of 2" in result.stop_reason.detail
    model_calls = await gai.generate_text(
        looping("search"),
        prompt="x",
        tools=[search],
        stop_when=MaxSteps(10),
        budget=Budget(max_model_calls=2),
    )
    assert len(model_calls.steps) == 2


async def test_cost_budget_uses_real_prices_and_refuses_unknown_ones():
    model = gai.models.FunctionModel(
        lambda m, t: calls("search", usage=100_000), name="openai:gpt-4o-mini"
    )
    result = await gai.generate_text(
        model, prompt="x", tools=[search], stop_when=MaxSteps(50), budget=Budget(max_cost=0.2)
    )
    assert result.stop_reason.kind == "budget"
    assert result.stop_reason.detail.startswith("max_cost")
    # 100k in + 100k out per step is $0.075 on gpt-4o-mini: the 3rd step crosses $0.20
    assert len(result.steps) == 3
    priced = await gai.generate_text(
        gai.models.FunctionModel(lambda m, t: calls("search"), name="mine"), prompt="x", tools=[search],
        stop_when=MaxSteps(5), budget=Budget(max_cost=1.0, price=lambda step: Decimal("0.3")),
    )  # fmt: skip
    assert len(priced.steps) == 4
    asked: list[int] = []
    with pytest.raises(gai.UserError, match="has no known price"):
        await gai.generate_text(
            gai.models.FunctionModel(lambda m, t: asked.append(1) or calls("search"), name="local-llm"),  # type: ignore[func-returns-value]
            prompt="x", tools=[search], stop_when=MaxSteps(5), budget=Budget(max_cost=1.0),
        )  # fmt: skip
    assert asked == []  # refused before step 1: no model call, no tool ran


async def test_one_tool_may_be_given_without_a_list():
    result = await gai.generate_text(gai.TestModel(), prompt="x", tools=search)
    assert result.steps[0].tool_calls[0].name == "search"
    with pytest.raises(gai.UserError, match=r"tools must be a list.*got str"):
        await gai.generate_text(gai.TestModel(), prompt="x", tools="search")  # type: ignore[arg-type]


async def test_memory_and_deadline_limits():
    hog: list[bytes] = []

    @tool
    def allocate() -> str:
        """Allocate (a test tool)."""
        hog.append(b"x" * 30 * 2**20)
        return "allocated"

    start = gai.control.resident_memory_mb()
    result = await gai.generate_text(
        looping("allocate"), prompt="x", tools=[allocate], stop_when=MaxSteps(50),
        budget=Budget(max_memory_mb=start + 100),
    )  # fmt: skip
    assert result.stop_reason.kind == "budget"
    assert result.stop_reason.detail.startswith("max_memory_mb")
    memory = [s.memory_mb for s in result.steps]
    assert all(m is not None for m in memory)
    growth = [b - a for a, b in itertools.pairwise(memory)]  # type: ignore[operator]
    assert all(g > 20 for g in growth)  # each step recorded its ~30 MiB growth
    hog.clear()
    quick = await gai.generate_text(
        looping("search"),
        prompt="x",
        tools=[search],
        stop_when=MaxSteps(10**6),
        budget=Budget(deadline=1e-9),
    )
    assert quick.stop_reason.detail.startswith("deadline")
    with pytest.raises(ValueError, match="max_steps"):
        Budget(max_steps=0)


# --- continue_when --------------------------------------------------------------------


async def test_continue_when_nudges_instead_of_silently_ending():
    @tool
    def send_email(to: str) -> str:
        """Send email (a test tool)."""
        return "sent"

    def lazy(messages, tools):
        nudged = any(m.role == "user" and "not finished" in m.text for m in messages)
        if nudged and not any(p.name == "send_email" for m in messages for p in m.tool_calls):
            return calls("send_email", send_email={"to": "boss"})
        return "I am done (I think)"

    result = await gai.generate_text(
        gai.models.FunctionModel(lazy), prompt="email the boss", tools=[send_email], stop_when=MaxSteps(10),
        continue_when=~UntilToolSeen("send_email"),
    )  # fmt: skip
    assert [len(s.tool_calls) for s in result.steps] == [0, 1, 0]
    nudge = result.messages[2]
    assert nudge.role == "user"
    assert "UntilToolSeen('send_email') does not hold" in nudge.text
    assert result.stop_reason.kind == "no_more_tools"

    custom = await gai.generate_text(
        gai.models.FunctionModel(lambda m, t: "never"), prompt="x", tools=[send_email], stop_when=MaxSteps(10),
        continue_when=ContinueWhen(~UntilToolSeen("send_email"), nudge="Send the email. ({reason})"),
        budget=Budget(max_steps=3),
    )  # fmt: skip
    assert custom.stop_reason.kind == "budget"  # bounded by the budget
    assert custom.messages[2].text.startswith("Send the email.")


async def test_a_nudge_may_hold_json_braces():
    json_nudge = 'Answer as {"status": "done"} once sent. Why: {reason}'
    result = await gai.generate_text(
        gai.models.FunctionModel(lambda m, t: "never"), prompt="x", stop_when=MaxSteps(10),
        continue_when=ContinueWhen(~UntilToolSeen("send_email"), nudge=json_nudge),
        budget=Budget(max_steps=2),
    )  # fmt: skip
    text = result.messages[2].text
    assert text.startswith('Answer as {"status": "done"} once sent. Why: ')
    assert "UntilToolSeen('send_email')" in text


# --- loop guards ----------------------------------------------------------------------


def _state(*steps: gai.Step) -> gai.RunState:
    return gai.RunState(run_id="r", steps=steps)


def _step(n: int, *calls_: tuple[str, dict[str, Any]], results: tuple[str, ...] = ()) -> gai.Step:
    tcs = tuple(
        ToolCall(call_id=f"{n}{i}", name=c[0], arguments=c[1]) for i, c in enumerate(calls_)
    )
    rs = tuple(
        gai.ToolResult(call_id=f"{n}{i}", name=c[0], output=r)
        for i, (c, r) in enumerate(zip(calls_, results, strict=False))
    )
    return gai.Step(step_number=n, tool_calls=tcs, tool_results=rs)


def test_loop_detectors_report_what_they_saw():
    same = [_step(i, ("search", {"q": "a"})) for i in range(1, 4)]
    reason = RepeatedCall(3).check(_state(*same))
    assert reason is not None
    assert reason.detail == 'tool \'search\' was called 3 times with the same arguments {"q": "a"}'
    assert RepeatedCall(3).check(_state(same[0], _step(2, ("search", {"q": "b"})), same[2])) is None
    ping = [_step(i, ("a" if i % 2 else "b", {})) for i in range(1, 7)]
    reason = PingPong(3).check(_state(*ping))
    assert reason is not None
    assert reason.detail == "tools 'a' and 'b' alternated 3 times"
    assert PingPong(3).check(_state(*ping[:5])) is None
    flat = [_step(i, ("poll", {"i": i}), results=("pending",)) for i in range(1, 4)]
    reason = StagnantResults(3).check(_state(*flat))
    assert reason is not None
    assert "tool 'poll' returned the same result 3 times" in reason.detail
    assert StagnantResults(3).culprit(_state(*flat)) == "poll"
    # usable as plain stop conditions too
    assert (RepeatedCall(3) | MaxSteps(10))(_state(*same))


async def test_guards_nudge_block_or_stop():
    def stubborn(messages, tools):
        if any(m.role == "user" and "blocked" in m.text for m in messages):
            return "ok, giving up on search"
        return calls("search", search={"query": "same"})

    blocked = await gai.generate_text(
        gai.models.FunctionModel(stubborn), prompt="x", tools=[search], stop_when=MaxSteps(10),
        guards=[Guard(RepeatedCall(2), action="block")],
    )  # fmt: skip
    assert blocked.text == "ok, giving up on search"
    assert any(
        "is blocked for the rest of this run" in m.text
        for m in blocked.messages
        if m.role == "user"
    )

    stopped = await gai.generate_text(
        gai.models.FunctionModel(lambda m, t: calls("search", search={"query": "same"})), prompt="x", tools=[search],
        stop_when=MaxSteps(10), guards=[Guard(RepeatedCall(3), action="stop")],
    )  # fmt: skip
    assert len(stopped.steps) == 3
    assert stopped.stop_reason.condition == "RepeatedCall(3)"

    nudged = await gai.generate_text(
        gai.models.FunctionModel(lambda m, t: calls("search", search={"query": "same"})), prompt="x", tools=[search],
        stop_when=MaxSteps(5), guards=[Guard(RepeatedCall(2), action="nudge")],
    )  # fmt: skip
    nudges = [m.text for m in nudged.messages if m.role == "user"][1:]
    assert len(nudges) == 1  # once, not every step
    assert "going in circles" in nudges[0]

    refused_after_block = await gai.generate_text(
        gai.models.FunctionModel(lambda m, t: calls("search", search={"query": "same"})), prompt="x", tools=[search],
        stop_when=MaxSteps(4), guards=[Guard(RepeatedCall(2), action="block")],
    )  # fmt: skip
    assert [r.ok for r in refused_after_block.tool_results] == [True, True, False, False]


# --- tool scheduling ------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_leftover_limits():
    yield
    clear_limits()


async def _peak(tool_kwargs: dict[str, Any], n_calls: int, runs: int = 1, **run_kwargs) -> int:
    running = 0
    peak = 0
    entered = asyncio.Event()

    @tool(name="work", **tool_kwargs)
    async def work(i: int) -> int:
        """Work (a test tool)."""
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        entered.set()
        for _ in range(5):
            await asyncio.sleep(0)
        running -= 1
        return i

    async def one_run() -> gai.TextResult:
        response = ModelResponse(
            tool_calls=tuple(ToolCall(name="work", arguments={"i": i}) for i in range(n_calls))
        )
        return await gai.generate_text(
            gai.ScriptedModel([response]), prompt="x", tools=[work], **run_kwargs
        )

    results = await asyncio.gather(*(one_run() for _ in range(runs)))
    assert all(
        [r.output for r in res.tool_results] == list(range(n_calls)) for res in results
    )  # call order kept
    return peak


async def test_tool_concurrency_sequential_groups_and_global_cap():
    assert await _peak({}, 8) == 8
    assert await _peak({"sequential": True}, 8) == 1
    assert await _peak({"concurrency": 3}, 8, runs=3) == 3  # shared by all runs
    set_group_limit("db-write", 2)
    assert await _peak({"group": "db-write"}, 8, runs=2) == 2
    set_global_tool_limit(4)
    assert await _peak({}, 8, runs=2) == 4
    with pytest.raises(gai.UserError, match="at least 1"):
        set_group_limit("x", 0)


# --- stop at a step boundary -----------------------------------------------------------


async def test_stop_token_stops_before_new_side_effects_and_the_run_resumes():
    effects: list[str] = []
    token = gai.StopToken()

    @tool
    def write(n: int) -> str:
        """Write (a test tool)."""
        effects.append(f"write {n}")
        return "ok"

    def model_fn(messages, tools):
        step = sum(1 for m in messages if m.role == "assistant")
        if step == 1:
            token.request("deploy in progress")  # arrives while the model answers step 2
        if step < 3:
            return calls("write", write={"n": step})
        return "done"

    store = MemoryStore()
    result = await gai.generate_text(
        gai.models.FunctionModel(model_fn), prompt="x", tools=[write], stop_when=MaxSteps(10),
        stop_token=token, run_store=store, run_id="stoppable",
    )  # fmt: skip
    assert effects == ["write 0"]  # the second answer's tool call did not run
    assert result.stop_reason.kind == "cancelled"
    assert "deploy in progress" in result.stop_reason.detail
    record = await store.load_run("stoppable")
    assert record.status == "cancelled"
    resumed = await gai.resume(
        "stoppable",
        store=store,
        model=gai.models.FunctionModel(model_fn),
        tools=[write],
        stop_when=MaxSteps(10),
    )
    assert effects == ["write 0", "write 1", "write 2"]
    assert resumed.text == "done"


# --- human approval --------------------------------------------------------------------


@tool(needs_approval=lambda args: args["amount"] > 100)
def pay(to: str, amount: int) -> str:
    """Pay someone."""
    return f"paid {amount} to {to}"


def payments_model() -> gai.ScriptedModel:
    return gai.ScriptedModel(
        [
            ModelResponse(
                tool_calls=(
                    ToolCall(call_id="small", name="pay", arguments={"to": "ann", "amount": 50}),
                    ToolCall(call_id="big1", name="pay", arguments={"to": "bob", "amount": 500}),
                    ToolCall(call_id="big2", name="pay", arguments={"to": "cy", "amount": 900}),
                )
            ),
            "payments handled",
        ]
    )


async def test_approval_pauses_then_resumes_with_decisions_routed_by_call_id():
    store = MemoryStore()
    model = payments_model()
    paused = await gai.generate_text(
        model, prompt="pay", tools=[pay], stop_when=MaxSteps(5), run_store=store, run_id="p"
    )
    assert paused.stop_reason.kind == "approval_pending"
    assert [c.call_id for c in paused.pending_approvals] == ["big1", "big2"]
    assert "big1" in paused.stop_reason.detail
    # The result shows the paused step: the call that ran, and what it returned.
    [step] = paused.steps
    assert [c.call_id for c in step.tool_calls] == ["small", "big1", "big2"]
    assert [(r.call_id, r.output) for r in step.tool_results] == [("small", "paid 50 to ann")]
    record = await store.load_run("p")
    assert record.status == "paused"
    assert record.pending is not None
    assert list(record.pending.results) == ["small"]  # the other call of the step ran
    with pytest.raises(gai.UserError, match="'nope'"):
        await gai.resume(
            "p",
            store=store,
            model=model,
            tools=[pay],
            stop_when=MaxSteps(5),
            approvals={"nope": gai.approve()},
        )
    # Only one decision: the run pauses again for the other.
    again = await gai.resume(
        "p",
        store=store,
        model=model,
        tools=[pay],
        stop_when=MaxSteps(5),
        approvals={"big2": gai.reject("over the limit")},
    )
    assert [c.call_id for c in again.pending_approvals] == ["big1"]
    assert [r.call_id for r in again.steps[0].tool_results] == ["small", "big2"]
    final = await gai.resume(
        "p",
        store=store,
        model=model,
        tools=[pay],
        stop_when=MaxSteps(5),
        approvals={"big1": gai.approve()},
    )
    by_id = {r.call_id: r for r in final.steps[0].tool_results}
    assert by_id["small"].output == "paid 50 to ann"
    assert by_id["big1"].output == "paid 500 to bob"
    assert by_id["big2"].error is not None
    assert "rejected" in by_id["big2"].error
    assert "over the limit" in by_id["big2"].error
    assert final.text == "payments handled"
    assert len(model.requests) == 2  # the model was never asked twice


async def test_approval_needs_a_store():
    with pytest.raises(gai.UserError, match="needs run_store"):
        await gai.generate_text(payments_model(), prompt="pay", tools=[pay])


def test_approval_survives_a_process_restart(tmp_path: Path):
    db = tmp_path / "approvals.db"
    script = tmp_path / "pause.py"
    script.write_text(
        "import asyncio, gai\n"
        "from gai.store import SQLiteStore\n"
        "from tests.control.test_control import pay, payments_model\n"
        "async def main():\n"
        f"    store = SQLiteStore({str(db)!r})\n"
        "    r = await gai.generate_text(payments_model(), prompt='pay', tools=[pay], stop_when=gai.MaxSteps(5), run_store=store, run_id='xp')\n"
        "    print(r.stop_reason.kind, [c.call_id for c in r.pending_approvals])\n"
        "    await store.aclose()\n"
        "asyncio.run(main())\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": ""},
        check=True,
    )
    assert out.stdout.strip() == "approval_pending ['big1', 'big2']"

    async def decide() -> gai.TextResult:
        store = SQLiteStore(db)
        model = gai.ScriptedModel(["payments handled"])  # a new process: only what is left
        try:
            return await gai.resume(
                "xp", store=store, model=model, tools=[pay], stop_when=MaxSteps(5),
                approvals={"big1": gai.approve(), "big2": gai.approve()},
            )  # fmt: skip
        finally:
            await store.aclose()

    final = asyncio.run(decide())
    assert [r.output for r in final.steps[0].tool_results] == [
        "paid 50 to ann",
        "paid 500 to bob",
        "paid 900 to cy",
    ]
    assert final.text == "payments handled"


async def test_a_tool_limit_belongs_to_its_tool_object():
    # Keyed by id(), a new tool could inherit a garbage-collected tool's semaphore (and
    # its limit) when CPython reuses the address; tools with one name stay separate too.
    import gc

    from gai.tools import limits

    def make(**kwargs: Any) -> Any:
        @tool(name="work", **kwargs)
        async def work(i: int) -> int:
            """Work (a test tool)."""
            return i

        return work

    narrow, wide = make(sequential=True), make(concurrency=3)
    first = limits._tool_semaphore(narrow, 1)
    assert limits._tool_semaphore(narrow, 1) is first
    assert limits._tool_semaphore(wide, 3) is not first
    before = len(limits._TOOL_SEMAPHORES)
    del narrow, first
    gc.collect()
    assert len(limits._TOOL_SEMAPHORES) == before - 1
    assert await _peak({"concurrency": 3}, 8, runs=3) == 3


async def test_a_priced_fallback_passes_the_price_check():
    fallback = gai.FallbackModel(
        [gai.TestModel(name="openai:gpt-4o-mini"), gai.TestModel(name="anthropic:claude-haiku-4-5")]
    )
    result = await gai.generate_text(
        gai.resilience.RetryModel(fallback), prompt="x", budget=Budget(max_cost=1.0)
    )
    assert result.text
    with pytest.raises(gai.UserError, match="'local-llm' has no known price"):
        await gai.generate_text(
            gai.FallbackModel([gai.TestModel(name="openai:gpt-4o-mini"), gai.TestModel(name="local-llm")]),
            prompt="x", budget=Budget(max_cost=1.0),
        )  # fmt: skip
