"""What a run with a store records of its request when it starts."""

from __future__ import annotations

import pytest

import gai
from gai.engine import _begin
from gai.engine.request import Request
from gai.store import RunSnapshot
from gai.types import Message


@gai.tool
def lookup(key: str) -> str:
    """Look a key up."""
    return key


def _validated(request: Request) -> RunSnapshot:
    return RunSnapshot(
        messages=list(request.messages),
        system=request.system,
        tools=[lookup.definition],
        stop_condition=repr(gai.MaxSteps(3)),
        tool_choice=request.tool_choice,
        max_steps_limit=request.max_steps_limit,
        settings=dict(request.settings),
    )


@pytest.mark.parametrize("tool_choice", ["auto", "lookup"])
def test_the_snapshot_equals_the_validated_one(tool_choice: str) -> None:
    request = Request(
        messages=[gai.user("hi"), gai.assistant("hello"), gai.user("look up k")],
        system="Be brief.",
        tools=[lookup],
        stop_when=gai.MaxSteps(3),
        tool_choice=tool_choice,
        settings={"temperature": 0.2, "stop": ["\n"]},
    )
    snapshot = _begin._snapshot(request)
    expected = _validated(request)
    assert snapshot == expected
    assert snapshot.model_fields_set == expected.model_fields_set
    assert snapshot.model_dump_json(exclude_none=True) == expected.model_dump_json(
        exclude_none=True
    )
    # Its own copies: changing the request afterwards changes nothing recorded.
    assert snapshot.settings is not request.settings
    assert snapshot.messages is not request.messages


class _Tagged(Message):
    """A message subclass: not gai's own type, so it is validated."""


def test_a_message_of_another_type_is_validated() -> None:
    request = Request(messages=[_Tagged(role="user", parts=(gai.Text(text="hi"),))])
    snapshot = _begin._snapshot(request)
    assert snapshot == RunSnapshot(messages=list(request.messages), tool_choice="auto")
