"""`WorkflowTemplate`: variables, sandboxed rendering, tools by name, files."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

import gai
from gai import ModelResponse, ToolCall
from gai.errors import MissingVariablesError, TemplateError
from gai.models import FunctionModel
from gai.tools import ToolRegistry
from gai.types import Message, ToolDefinition
from gai.workflows import TemplateStep, WorkflowTemplate


def _last_user(messages: Sequence[Message]) -> str:
    return next(m.text for m in reversed(messages) if m.role == "user")


def echo_model() -> FunctionModel:
    """Answers with the prompt it got, prefixed by the tools it was offered."""

    def answer(messages: Sequence[Message], tools: Sequence[ToolDefinition]) -> str:
        offered = ",".join(t.name for t in tools)
        return f"[{offered}] {_last_user(messages)}"

    return FunctionModel(answer)


def report_template() -> WorkflowTemplate:
    return WorkflowTemplate(
        name="report",
        description="research then write",
        default_vars={"tone": "plain"},
        steps=[
            TemplateStep(name="research", user_prompt="Research {{ topic }}."),
            TemplateStep(
                name="write",
                system_prompt="Write in a {{ tone }} tone.",
                user_prompt="Write about {{ topic }} using: {{ research_result }}",
            ),
        ],
    )


async def test_steps_run_in_order_and_see_earlier_results():
    result = await report_template().run(echo_model(), {"topic": "tides"})
    assert list(result.results) == ["research", "write"]
    assert result.results["research"].text == "[] Research tides."
    assert result.text == "[] Write about tides using: [] Research tides."
    assert result.variables["research_result"] == "[] Research tides."
    assert set(result.durations) == {"research", "write"}
    assert all(d > 0 for d in result.durations.values())


async def test_variables_override_defaults_and_reach_the_system_prompt():
    seen: list[str] = []

    def answer(messages: Sequence[Message], tools: Sequence[ToolDefinition]) -> str:
        seen.extend(m.text for m in messages if m.role == "system")
        return "ok"

    await report_template().run(FunctionModel(answer), {"topic": "x", "tone": "formal"})
    assert seen == ["Write in a formal tone."]


def test_every_missing_variable_is_listed_in_one_error():
    template = WorkflowTemplate(
        name="t",
        steps=[
            TemplateStep(name="a", user_prompt="{{ alpha }} {{ beta }}", required_vars=["gamma"]),
            TemplateStep(name="b", user_prompt="{{ a_result }} {{ delta }}"),
        ],
    )
    with pytest.raises(MissingVariablesError) as info:
        template.validate_for(None, {"beta": 1})
    assert info.value.missing == ["alpha", "delta", "gamma"]
    assert "alpha, delta, gamma" in str(info.value)


def test_a_later_steps_result_is_not_available_earlier():
    template = WorkflowTemplate(
        name="t",
        steps=[
            TemplateStep(name="a", user_prompt="{{ b_result }}"),
            TemplateStep(name="b", user_prompt="hi"),
        ],
    )
    with pytest.raises(MissingVariablesError, match="b_result"):
        template.validate_for()


async def test_missing_variables_fail_before_any_model_call():
    calls = 0

    def answer(messages: Sequence[Message], tools: Sequence[ToolDefinition]) -> str:
        nonlocal calls
        calls += 1
        return "x"

    with pytest.raises(MissingVariablesError):
        await report_template().run(FunctionModel(answer), {})
    assert calls == 0


async def test_the_sandbox_refuses_unsafe_attribute_access():
    template = WorkflowTemplate(
        name="t", steps=[TemplateStep(name="a", user_prompt="{{ x.__class__.__mro__ }}")]
    )
    with pytest.raises(TemplateError, match=r"Step 'a' of 't' cannot be rendered: .*unsafe"):
        await template.run(echo_model(), {"x": "s"})


def test_invalid_jinja_is_a_template_error_naming_the_step():
    template = WorkflowTemplate(name="t", steps=[TemplateStep(name="bad", user_prompt="{{ x ")])
    with pytest.raises(TemplateError, match="'bad'"):
        template.validate_for(None, {"x": 1})


def test_duplicate_step_names_and_empty_templates_are_rejected():
    with pytest.raises(TemplateError, match="repeats step names: a"):
        WorkflowTemplate(
            name="t",
            steps=[
                TemplateStep(name="a", user_prompt="1"),
                TemplateStep(name="a", user_prompt="2"),
            ],
        )
    with pytest.raises(TemplateError, match="no steps"):
        WorkflowTemplate(name="t", steps=[])


def _registry() -> ToolRegistry:
    registry = ToolRegistry()

    @registry.register
    @gai.tool
    def lookup(term: str) -> str:
        """Look a term up."""
        return f"{term} means water"

    return registry


def test_unknown_tool_names_fail_validation():
    template = WorkflowTemplate(
        name="t", steps=[TemplateStep(name="a", user_prompt="hi", tools=["lookup", "nope"])]
    )
    with pytest.raises(TemplateError, match="a: nope"):
        template.validate_for(_registry())
    with pytest.raises(TemplateError, match="a: lookup"):
        template.validate_for(None)


async def test_steps_get_their_tools_from_the_registry_and_use_them():
    def answer(messages: Sequence[Message], tools: Sequence[ToolDefinition]) -> ModelResponse | str:
        tool_results = [m for m in messages if m.role == "tool"]
        if not tool_results:
            return ModelResponse(tool_calls=(ToolCall(name="lookup", arguments={"term": "aqua"}),))
        return f"answer from {[t.name for t in tools]}: {tool_results[-1].tool_results[0].content}"

    template = WorkflowTemplate(
        name="t", steps=[TemplateStep(name="a", user_prompt="define aqua", tools=["lookup"])]
    )
    result = await template.run(FunctionModel(answer), registry=_registry())
    assert result.text == "answer from ['lookup']: aqua means water"
    assert len(result.results["a"].steps) == 2


async def test_max_steps_and_stop_when_limit_each_step():
    def loop(messages: Sequence[Message], tools: Sequence[ToolDefinition]) -> ModelResponse:
        return ModelResponse(tool_calls=(ToolCall(name="lookup", arguments={"term": "x"}),))

    template = WorkflowTemplate(
        name="t",
        steps=[
            TemplateStep(name="capped", user_prompt="go", tools=["lookup"], max_steps=3),
            TemplateStep(
                name="stopped",
                user_prompt="go",
                tools=["lookup"],
                stop_when=gai.UntilToolSeen("lookup"),
            ),
        ],
    )
    result = await template.run(FunctionModel(loop), registry=_registry())
    assert len(result.results["capped"].steps) == 3
    assert result.results["stopped"].stop_reason.kind == "tool_seen"
    assert result.usage == result.results["capped"].usage + result.results["stopped"].usage


@pytest.mark.parametrize("suffix", [".yaml", ".toml"])
def test_templates_round_trip_through_files(tmp_path, suffix):
    path = tmp_path / f"report{suffix}"
    report_template().save(path)
    loaded = WorkflowTemplate.load(path)
    assert loaded == report_template()


def test_a_malformed_file_is_a_template_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: t\nsteps: [ {name: a\n")
    with pytest.raises(TemplateError, match="Cannot parse"):
        WorkflowTemplate.load(path)
    path.write_text("name: t\nsteps:\n  - name: a\n    prompt: typo\n")
    with pytest.raises(TemplateError, match="not a valid workflow template"):
        WorkflowTemplate.load(path)
