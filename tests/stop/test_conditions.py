from __future__ import annotations

import pytest

import gai
from gai import RunState, Step, ToolCall, ToolResult, Usage
from gai.stop import (
    CostBudget,
    MaxSteps,
    NoMoreTools,
    StepsMatch,
    TextContains,
    TextMatches,
    TimeLimit,
    TokenBudget,
    ToolErrorRate,
    ToolResultMatches,
    ToolSequence,
    UntilToolSeen,
    all_of,
    any_of,
    as_condition,
)


def step(n, *tools, text="", errors=(), outputs=None, usage=None, model=None):
    calls = tuple(ToolCall(call_id=f"{n}-{i}", name=t) for i, t in enumerate(tools))
    results = tuple(
        ToolResult(
            call_id=c.call_id,
            name=c.name,
            output=None if c.name in errors else (outputs or {}).get(c.name, "ok"),
            error="failed" if c.name in errors else None,
        )
        for c in calls
    )
    return Step(
        step_number=n,
        text=text,
        tool_calls=calls,
        tool_results=results,
        usage=usage or Usage(),
        model=model,
    )


def run(*steps, elapsed=0.0):
    return RunState(
        run_id="r",
        steps=steps,
        usage=sum((s.usage for s in steps), Usage()),
        elapsed=elapsed,
    )


def test_max_steps():
    c = MaxSteps(2)
    assert c.check(run(step(1, "a"))) is None
    reason = c.check(run(step(1, "a"), step(2, "a")))
    assert reason is not None
    assert (reason.kind, reason.detail, reason.condition) == (
        "max_steps",
        "reached 2 steps",
        "MaxSteps(2)",
    )
    with pytest.raises(ValueError, match="n >= 1"):
        MaxSteps(0)


def test_no_more_tools():
    assert NoMoreTools().check(run()) is None
    assert NoMoreTools().check(run(step(1, "a"))) is None
    reason = NoMoreTools().check(run(step(1, "a"), step(2)))
    assert reason is not None
    assert reason.kind == "no_more_tools"


def test_until_tool_seen_names_tool_and_step_and_looks_at_all_steps():
    c = UntilToolSeen("send_email")
    assert c.check(run(step(1, "a"))) is None
    reason = c.check(run(step(1, "a", "send_email"), step(2, "b")))
    assert reason is not None
    assert reason.kind == "tool_seen"
    assert reason.detail == "tool 'send_email' was called in step 1"


def test_all_of_with_tool_seen_in_an_earlier_step():
    c = all_of(MaxSteps(3), UntilToolSeen("b"))
    assert c.check(run(step(1, "b"), step(2, "a"))) is None
    reason = c.check(run(step(1, "b"), step(2, "a"), step(3, "a")))
    assert reason is not None
    assert reason.kind == "condition"
    assert "reached 3 steps" in reason.detail
    assert "tool 'b' was called in step 1" in reason.detail


def test_any_of_reports_the_condition_that_fired_and_flattens():
    c = any_of(MaxSteps(10), UntilToolSeen("x"), MaxSteps(2))
    reason = c.check(run(step(1, "x")))
    assert reason is not None
    assert reason.condition == "UntilToolSeen('x')"
    nested = any_of(any_of(MaxSteps(1), MaxSteps(2)), MaxSteps(3))
    assert repr(nested) == "any_of(MaxSteps(1), MaxSteps(2), MaxSteps(3))"
    with pytest.raises(ValueError, match="at least one"):
        any_of()


def test_operators():
    either = UntilToolSeen("a") | MaxSteps(5)
    both = UntilToolSeen("a") & MaxSteps(2)
    never_a = ~UntilToolSeen("a")
    one = run(step(1, "a"))
    assert either(one)
    assert not both(one)
    assert both(run(step(1, "a"), step(2)))
    assert not never_a(one)
    reason = never_a.check(run(step(1, "b")))
    assert reason is not None
    assert reason.detail == "UntilToolSeen('a') does not hold"
    assert repr(both) == "all_of(UntilToolSeen('a'), MaxSteps(2))"
    # a plain callable on the left of | works too
    mixed = (lambda r: r.step_number >= 2) | MaxSteps(9)
    assert mixed(run(step(1), step(2)))


def test_plain_callables_both_forms():
    def long_run(state: RunState) -> bool:
        return state.step_number >= 2

    def seed_form(step_number: int, s: Step) -> bool:
        return "DONE" in s.text

    a = as_condition(long_run)
    reason = a.check(run(step(1), step(2)))
    assert reason is not None
    assert reason.kind == "condition"
    assert reason.detail == "long_run returned True after step 2"
    b = as_condition(seed_form)
    assert b.check(run()) is None
    assert b.check(run(step(1, text="not yet"))) is None
    assert b(run(step(1, text="DONE")))
    with pytest.raises(gai.UserError, match="must be a StopCondition"):
        as_condition(42)  # type: ignore[arg-type]


@gai.tool
def divide(a: float, b: float) -> float:
    """Divide a by b."""
    return a / b


@pytest.mark.parametrize(
    ("stop_when", "message"),
    [
        (MaxSteps, r"got the class MaxSteps.*stop_when=MaxSteps\(5\)"),
        (lambda: True, "must take one argument.*the lambda takes 0"),
        (lambda a, b, c: True, "the lambda takes 3"),
        ("MaxSteps(3)", "must be a StopCondition"),
    ],
)
async def test_wrong_stop_conditions_fail_before_the_first_step(stop_when, message):
    model = gai.ScriptedModel([gai.ModelResponse(text="never called")])
    with pytest.raises(gai.UserError, match=message):
        await gai.generate_text(model, prompt="x", tools=[divide], stop_when=stop_when)
    assert model.requests == []  # nothing ran


def test_condition_arguments_are_checked_when_built():
    with pytest.raises(gai.ConfigError, match="whole number n >= 1, got '3'"):
        MaxSteps("3")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="got True"):  # ConfigError is a ValueError too
        MaxSteps(True)
    with pytest.raises(gai.ConfigError, match="tool name"):
        UntilToolSeen(divide)  # type: ignore[arg-type]


async def test_waiting_for_a_tool_the_run_lacks_warns():
    condition = UntilToolSeen("dvide") | (MaxSteps(3) & ~ToolSequence(["divide", "x"]))
    assert condition.tool_names() == {"dvide", "divide", "x"}
    with pytest.warns(gai.GaiWarning, match=r"waits for tool 'dvide' and 'x'.*its tools: divide"):
        await gai.generate_text(gai.TestModel(), prompt="x", tools=[divide], stop_when=condition)


def test_seed_goal_reached_text_contains_and_regex():
    assert TextContains("TASK_COMPLETED")(run(step(1, text="...TASK_COMPLETED")))
    assert not TextContains("TASK_COMPLETED")(run(step(1, text="task_completed")))
    assert TextContains("task_completed", case_sensitive=False)(run(step(1, text="TASK_COMPLETED")))
    assert not TextContains("x")(run())
    c = TextMatches(r"accuracy\s+9[5-9]%")
    assert c(run(step(1, text="accuracy 97%")))
    assert not c(run(step(1, text="accuracy 91%")))


def test_seed_tool_result_matches_over_all_steps_and_ignores_errors():
    c = ToolResultMatches("calculate_metrics", r"accuracy.*9[5-9]\.[0-9]%")
    low = step(1, "calculate_metrics", outputs={"calculate_metrics": "accuracy 91.0%"})
    high = step(2, "calculate_metrics", outputs={"calculate_metrics": {"m": "accuracy 96.5%"}})
    assert c.check(run(low)) is None
    reason = c.check(run(low, high))
    assert reason is not None
    assert "step 2" in reason.detail
    failed = step(1, "calculate_metrics", errors=("calculate_metrics",))
    assert c.check(run(failed)) is None


def test_seed_cost_exceeded_is_stateless():
    def price(step: Step) -> float:  # the signature Budget(price=...) takes
        rate = 0.01 if step.model == "big" else 0.001
        return step.usage.total_tokens * rate

    c = CostBudget(1.0, price)
    cheap = step(1, usage=Usage(input_tokens=100, output_tokens=0), model="small")
    dear = step(2, usage=Usage(input_tokens=90, output_tokens=0), model="big")
    assert c.check(run(cheap)) is None
    reason = c.check(run(cheap, dear))
    assert reason is not None
    assert reason.kind == "budget"
    assert reason.detail == "max_cost: used 1 of 1"
    # the same object gives the same answer again: nothing accumulated inside it
    assert c.check(run(cheap)) is None
    with pytest.raises(ValueError, match="max_cost must be positive"):
        CostBudget(0, price)
    with pytest.raises(gai.UserError, match="no known price"):
        CostBudget(1.0, lambda step: None).check(run(cheap))


def test_token_budget():
    s = step(1, usage=Usage(input_tokens=60, output_tokens=50))
    assert TokenBudget(100)(run(s))
    assert not TokenBudget(200)(run(s))
    reason = TokenBudget(max_output=50).check(run(s))
    assert reason is not None
    assert reason.detail == "max_output_tokens: used 50 of 50"
    assert repr(TokenBudget(max_input=5)) == "TokenBudget(max_input=5)"
    with pytest.raises(ValueError, match="at least one"):
        TokenBudget()


def test_seed_time_exceeded_reads_elapsed_from_the_run():
    c = TimeLimit(30)
    assert c.check(run(step(1), elapsed=29.9)) is None
    reason = c.check(run(step(1), elapsed=30.5))
    assert reason is not None
    assert reason.kind == "deadline"
    assert reason.detail == "deadline: used 30.5 of 30"
    with pytest.raises(ValueError, match="deadline must be positive"):
        TimeLimit(0)


def test_seed_error_rate_with_minimum_sample():
    c = ToolErrorRate(0.5, min_calls=4)
    two_bad = step(1, "a", "b", errors=("a", "b"))
    assert c.check(run(two_bad)) is None  # 2 calls: too few to judge
    reason = c.check(run(two_bad, step(2, "c", "d")))
    assert reason is not None
    assert reason.detail == "2 of 4 tool calls failed (50%, threshold 50%)"
    assert not c(run(two_bad, step(2, "c", "d", "e")))
    with pytest.raises(ValueError, match="threshold"):
        ToolErrorRate(1.5)


def test_seed_tool_sequence():
    seq = ToolSequence(["fetch", "process", "report"])
    steps = (step(1, "fetch"), step(2, "log", "process"), step(3, "report"))
    assert not seq(run(*steps[:2]))
    assert seq(run(*steps))
    assert not ToolSequence(["fetch", "process"], contiguous=True)(run(*steps))
    assert ToolSequence(["log", "process"], contiguous=True)(run(*steps))
    assert not ToolSequence(["report", "fetch"])(run(*steps))
    with pytest.raises(ValueError, match="at least one"):
        ToolSequence([])


def test_seed_condition_met_over_all_steps():
    def three_tool_calls(steps) -> bool:
        return sum(len(s.tool_calls) for s in steps) >= 3

    c = StepsMatch(three_tool_calls)
    assert not c(run(step(1, "a", "b")))
    reason = c.check(run(step(1, "a", "b"), step(2, "c")))
    assert reason is not None
    assert reason.detail == "three_tool_calls holds after step 2"
