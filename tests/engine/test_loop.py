from __future__ import annotations

import asyncio
import threading

import pytest

import gai
from gai import (
    MaxSteps,
    ModelResponse,
    ScriptedModel,
    StepOverrides,
    ToolCall,
    UntilToolSeen,
    Usage,
    tool,
)
from gai.models import FunctionModel
from gai.stop import TextContains


def calls(*names: str, **args) -> ModelResponse:
    return ModelResponse(
        tool_calls=tuple(ToolCall(name=n, arguments=args.get(n, {})) for n in names)
    )


@tool
def ping() -> str:
    """Answer pong."""
    return "pong"


@tool
async def send_email(to: str) -> str:
    """Send an email."""
    return f"sent to {to}"


async def test_response_without_tool_calls_ends_the_run():
    model = ScriptedModel(["all done", "never used"])
    result = await gai.generate_text(model, prompt="hi", tools=[ping], stop_when=MaxSteps(10))
    assert result.text == "all done"
    assert len(result.steps) == 1
    assert result.stop_reason.kind == "no_more_tools"
    assert model.remaining == 1


async def test_stop_condition_is_checked_after_the_tools_ran():
    executed: list[str] = []

    @tool
    def send_email(to: str) -> str:
        """Send."""
        executed.append(to)
        return "ok"

    model = ScriptedModel([calls("ping"), calls("send_email", send_email={"to": "a@b"}), "x"])
    result = await gai.generate_text(
        model, prompt="go", tools=[ping, send_email], stop_when=UntilToolSeen("send_email")
    )
    assert executed == ["a@b"]
    assert [s.step_number for s in result.steps] == [1, 2]
    assert result.steps[1].tool_results[0].output == "ok"
    assert result.stop_reason.kind == "tool_seen"
    assert result.stop_reason.detail == "tool 'send_email' was called in step 2"
    assert result.stop_reason.condition == "UntilToolSeen('send_email')"
    assert model.remaining == 1


async def test_stop_when_none_runs_a_single_step_with_its_tools():
    model = ScriptedModel([calls("ping", "ping"), "unused"])
    result = await gai.generate_text(model, prompt="go", tools=[ping])
    assert len(model.requests) == 1
    assert [r.output for r in result.steps[0].tool_results] == ["pong", "pong"]
    assert result.stop_reason.kind == "max_steps"
    assert "single step" in result.stop_reason.detail


async def test_hard_ceiling_is_a_stop_reason_not_an_exception():
    model = FunctionModel(lambda messages, tools: calls("ping"))
    result = await gai.generate_text(
        model, prompt="loop", tools=[ping], stop_when=lambda run: False, max_steps_limit=4
    )
    assert len(result.steps) == 4
    assert result.stop_reason.kind == "step_limit"
    assert "4 steps" in result.stop_reason.detail


async def test_default_ceiling_is_50():
    model = FunctionModel(lambda messages, tools: calls("ping"))
    result = await gai.generate_text(
        model, prompt="loop", tools=[ping], stop_when=TextContains("z")
    )
    assert len(result.steps) == 50
    assert result.stop_reason.kind == "step_limit"


async def test_tool_failures_go_back_to_the_model_and_it_corrects_itself():
    @tool
    def divide(a: int, b: int) -> float:
        """Divide."""
        return a / b

    @tool
    async def slow() -> None:
        """Never finishes."""
        await asyncio.Event().wait()

    seen_errors: list[str] = []

    def model_fn(messages, tools):
        if len(messages) == 1:
            return calls(
                "nope", "divide", "divide", "slow", divide={"a": 1, "b": "zero"}
            ).model_copy(
                update={
                    "tool_calls": (
                        ToolCall(call_id="1", name="nope"),
                        ToolCall(call_id="2", name="divide", arguments={"a": 1, "b": "zero"}),
                        ToolCall(call_id="3", name="divide", arguments={"a": 1, "b": 0}),
                        ToolCall(call_id="4", name="slow"),
                    )
                }
            )
        seen_errors.extend(p.content for p in messages[-1].tool_results if p.is_error)
        if len(messages) == 3:
            return calls("divide", divide={"a": 6, "b": 3})
        return "6/3 is 2"

    result = await gai.generate_text(
        FunctionModel(model_fn),
        prompt="divide",
        tools=[divide, slow],
        stop_when=MaxSteps(5),
        tool_timeout=0.05,
    )
    assert result.text == "6/3 is 2"
    first = result.steps[0]
    assert [r.ok for r in first.tool_results] == [False, False, False, False]
    assert seen_errors[0].startswith("Unknown tool 'nope'")
    assert "'b': Input should be a valid integer" in seen_errors[1]
    assert seen_errors[2] == "Tool 'divide' failed: ZeroDivisionError: division by zero"
    assert "timed out after 0.05 seconds" in seen_errors[3]
    assert first.error is not None
    assert first.error.startswith("4 of 4 tool calls failed")
    assert result.steps[1].tool_results[0].output == 2.0
    assert result.steps[1].error is None


async def test_async_tools_of_a_step_run_concurrently():
    barrier = asyncio.Barrier(4)

    @tool
    async def meet(i: int) -> int:
        """Wait for the others."""
        await asyncio.wait_for(barrier.wait(), timeout=5)
        return i

    response = ModelResponse(
        tool_calls=tuple(
            ToolCall(call_id=str(i), name="meet", arguments={"i": i}) for i in range(4)
        )
    )
    result = await gai.generate_text(ScriptedModel([response]), prompt="x", tools=[meet])
    assert [r.output for r in result.steps[0].tool_results] == [0, 1, 2, 3]
    assert all(r.ok for r in result.steps[0].tool_results)


async def test_sync_tools_run_concurrently_in_threads():
    barrier = threading.Barrier(8, timeout=5)

    @tool
    def meet(i: int) -> str:
        """Wait for the others in a thread."""
        barrier.wait()
        return threading.current_thread().name

    response = ModelResponse(
        tool_calls=tuple(ToolCall(name="meet", arguments={"i": i}) for i in range(8))
    )
    result = await gai.generate_text(ScriptedModel([response]), prompt="x", tools=[meet])
    names = [r.output for r in result.steps[0].tool_results]
    assert all(r.ok for r in result.steps[0].tool_results), result.steps[0].error
    assert len(set(names)) == 8


async def test_results_keep_call_order_even_when_finishing_out_of_order():
    gates = {i: asyncio.Event() for i in range(3)}

    @tool
    async def wait_turn(i: int) -> int:
        """Finish in reverse order."""
        await gates[i].wait()
        if i > 0:
            gates[i - 1].set()
        return i

    gates[2].set()
    response = ModelResponse(
        tool_calls=tuple(
            ToolCall(call_id=f"c{i}", name="wait_turn", arguments={"i": i}) for i in range(3)
        )
    )
    result = await gai.generate_text(ScriptedModel([response]), prompt="x", tools=[wait_turn])
    assert [r.call_id for r in result.steps[0].tool_results] == ["c0", "c1", "c2"]
    tool_msg = result.messages[-1]
    assert tool_msg.role == "tool"
    assert [p.call_id for p in tool_msg.tool_results] == ["c0", "c1", "c2"]


async def test_max_parallel_tools_bounds_concurrency():
    running = 0
    peak = 0

    @tool
    async def work() -> None:
        """Track how many run at once."""
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        for _ in range(3):
            await asyncio.sleep(0)
        running -= 1

    response = calls(*["work"] * 9)
    await gai.generate_text(
        ScriptedModel([response]), prompt="x", tools=[work], max_parallel_tools=2
    )
    assert peak == 2


async def test_usage_sums_over_steps_and_each_step_keeps_its_own():
    model = ScriptedModel(
        [
            calls("ping").model_copy(update={"usage": Usage(input_tokens=10, output_tokens=2)}),
            ModelResponse(text="done", usage=Usage(input_tokens=20, output_tokens=5)),
        ]
    )
    result = await gai.generate_text(model, prompt="x", tools=[ping], stop_when=MaxSteps(5))
    assert [s.usage.total_tokens for s in result.steps] == [12, 25]
    assert result.usage == Usage(input_tokens=30, output_tokens=7)


async def test_step_duration_covers_model_and_tools():
    tools_done = asyncio.Event()

    @tool
    async def mark() -> None:
        """Mark."""
        tools_done.set()

    result = await gai.generate_text(ScriptedModel([calls("mark")]), prompt="x", tools=[mark])
    step = result.steps[0]
    assert step.duration >= step.model_duration >= 0
    assert step.duration >= step.tool_results[0].duration


async def test_transcript_holds_input_assistant_and_tool_messages():
    model = ScriptedModel([calls("ping"), "fin"])
    result = await gai.generate_text(
        model, prompt="go", system="be terse", tools=[ping], stop_when=MaxSteps(3)
    )
    roles = [m.role for m in result.messages]
    assert roles == ["system", "user", "assistant", "tool", "assistant"]
    assert result.messages[0].text == "be terse"
    second = model.requests[1]
    assert [m.role for m in second.messages] == ["system", "user", "assistant", "tool"]
    assert second.tools[0].name == "ping"
    assert result.run_id


async def test_on_step_finish_sync_and_async():
    seen_sync: list[int] = []
    seen_async: list[int] = []

    async def record(step):
        seen_async.append(step.step_number)

    for hook, seen in (
        (lambda s: seen_sync.append(s.step_number), seen_sync),
        (record, seen_async),
    ):
        model = ScriptedModel([calls("ping"), calls("ping"), "end"])
        await gai.generate_text(
            model, prompt="x", tools=[ping], stop_when=MaxSteps(9), on_step_finish=hook
        )
        assert seen == [1, 2, 3]


async def test_prepare_step_changes_model_tools_choice_and_system():
    first = ScriptedModel([calls("ping")], name="first")
    second = ScriptedModel(["from second"], name="second")
    states: list[int] = []

    async def prepare(run):
        states.append(run.step_number)
        if run.step_number == 1:
            return StepOverrides(model=second, tools=[send_email], tool_choice="none", system="new")
        return None

    result = await gai.generate_text(
        first, prompt="x", tools=[ping], system="old", stop_when=MaxSteps(5), prepare_step=prepare
    )
    assert states == [0, 1]
    assert [s.model for s in result.steps] == ["first", "second"]
    req = second.requests[0]
    assert [t.name for t in req.tools] == ["send_email"]
    assert req.tool_choice == "none"
    assert req.messages[0].text == "new"


async def test_prepare_step_with_wrong_return_is_a_clear_error():
    with pytest.raises(gai.UserError, match="must return StepOverrides or None"):
        await gai.generate_text(ScriptedModel(["x"]), prompt="x", prepare_step=lambda run: 3)  # type: ignore[arg-type, return-value]


async def test_cancel_cancels_running_tools_and_keeps_completed_steps():
    started = asyncio.Event()
    cancelled = asyncio.Event()

    @tool
    async def hang() -> None:
        """Hang until cancelled."""
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    model = ScriptedModel([calls("ping"), calls("hang")])
    task = asyncio.create_task(
        gai.generate_text(model, prompt="x", tools=[ping, hang], stop_when=MaxSteps(5))
    )
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError) as info:
        await task
    assert cancelled.is_set()
    partial = info.value.partial_result  # type: ignore[attr-defined]
    assert [s.step_number for s in partial.steps] == [1]
    assert partial.stop_reason.kind == "cancelled"


async def test_model_error_keeps_completed_steps():
    model = ScriptedModel([calls("ping")])
    with pytest.raises(gai.errors.ScriptExhaustedError, match="holds 1 and this is call 2") as info:
        await gai.generate_text(model, prompt="x", tools=[ping], stop_when=MaxSteps(5))
    partial = info.value.partial_result
    assert partial is not None
    assert len(partial.steps) == 1
    assert partial.stop_reason.kind == "error"
    assert "after 1 completed step" in partial.stop_reason.detail


async def test_provider_error_from_a_model_is_raised_with_partial_result():
    def fail(messages, tools):
        if len(messages) > 1:
            raise gai.ProviderError("upstream 503", provider="fake", status=503, retryable=True)
        return calls("ping")

    with pytest.raises(gai.ProviderError) as info:
        await gai.generate_text(
            FunctionModel(fail), prompt="x", tools=[ping], stop_when=MaxSteps(3)
        )
    assert info.value.status == 503
    assert info.value.partial_result is not None
    assert len(info.value.partial_result.steps) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "needs input"),
        ({"prompt": "a", "messages": [gai.user("b")]}, "not both"),
        ({"prompt": "a", "max_steps_limit": 0}, "max_steps_limit"),
        ({"prompt": "a", "max_parallel_tools": 0}, "max_parallel_tools"),
        ({"prompt": "a", "tool_timeout": 0}, "tool_timeout"),
        ({"prompt": "a", "tools": [ping, ping]}, "unique"),
        ({"prompt": "a", "tools": [ping], "tool_choice": "pong"}, "names no offered tool"),
    ],
)
async def test_bad_arguments_are_user_errors(kwargs, message):
    with pytest.raises(gai.UserError, match=message):
        await gai.generate_text(ScriptedModel(["x"]), **kwargs)


async def test_plain_functions_are_accepted_as_tools():
    def shout(text: str) -> str:
        """Upper-case."""
        return text.upper()

    model = ScriptedModel([calls("shout", shout={"text": "hi"})])
    result = await gai.generate_text(model, prompt="x", tools=[shout])
    assert result.steps[0].tool_results[0].output == "HI"


async def test_seed_request_shape_on_any_model():
    model = ScriptedModel([calls("ping"), calls("send_email", send_email={"to": "x"}), "unused"])
    request = gai.Request(
        messages=[gai.system("sys"), gai.user("go")],
        tools=[ping, send_email],
        stop_when=gai.any_of(MaxSteps(20), gai.NoMoreTools(), UntilToolSeen("send_email")),
    )
    result = await gai.generate_text(model, request)
    assert result.stop_reason.kind == "tool_seen"
    assert len(result.steps) == 2


async def test_deps_reach_tools_through_context():
    @tool
    def whoami(ctx: gai.ToolContext[dict[str, str]]) -> str:
        """Who."""
        return f"{ctx.deps['user']}@{ctx.run_id}/{ctx.step_number}"

    result = await gai.generate_text(
        ScriptedModel([calls("whoami")]),
        prompt="x",
        tools=[whoami],
        deps={"user": "ada"},
        run_id="r9",
    )
    assert result.steps[0].tool_results[0].output == "ada@r9/1"
    assert result.run_id == "r9"


def test_sync_twin_matches_async():
    model = ScriptedModel([calls("ping"), "done"])
    result = gai.generate_text_sync(model, prompt="x", tools=[ping], stop_when=MaxSteps(4))
    assert result.text == "done"
    assert gai.generate_text_sync.__name__ == "generate_text_sync"
    import inspect

    assert inspect.signature(gai.generate_text_sync) == inspect.signature(gai.generate_text)


async def test_sync_twin_works_inside_a_running_loop():
    result = gai.generate_text_sync(ScriptedModel(["inside"]), prompt="x")
    assert result.text == "inside"


def test_sync_twin_reraises_errors():
    with pytest.raises(gai.errors.ScriptExhaustedError):
        gai.generate_text_sync(ScriptedModel([]), prompt="x")


async def test_condition_object_is_safe_across_concurrent_runs():
    cond = UntilToolSeen("send_email") | MaxSteps(3)

    def make(n_pings: int) -> ScriptedModel:
        script = [calls("ping") for _ in range(n_pings)]
        return ScriptedModel([*script, calls("send_email", send_email={"to": "z"}), "x"])

    results = await asyncio.gather(
        *(
            gai.generate_text(make(n), prompt="x", tools=[ping, send_email], stop_when=cond)
            for n in (0, 1, 5)
        )
    )
    assert [len(r.steps) for r in results] == [1, 2, 3]
    assert [r.stop_reason.kind for r in results] == ["tool_seen", "tool_seen", "max_steps"]


async def test_a_request_takes_the_place_of_every_other_argument():
    request = gai.Request(messages=[gai.user("go")])
    with pytest.raises(gai.UserError, match="max_steps_limit, deps was given next to it"):
        await gai.generate_text("test", request, max_steps_limit=3, deps=object())
    result = gai.generate_text_sync("test", request)
    assert result.stop_reason.kind == "no_more_tools"
