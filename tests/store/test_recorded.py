"""The JSON the run loop records for a model answer is exactly a `RecordedResponse`."""

from __future__ import annotations

import gai
from gai.providers.base import ModelRequest, ModelResponse
from gai.store.recorded import _Recorded, recorded_json, recorded_response
from gai.store.records import RecordedResponse
from gai.types import ToolDefinition, ToolResultPart


def test_the_fast_serialiser_has_every_field() -> None:
    assert list(_Recorded.__annotations__) == list(RecordedResponse.model_fields)


def test_recorded_json_matches_the_model() -> None:
    response = ModelResponse(
        text="checking",
        tool_calls=(
            gai.ToolCall(
                call_id="c1",
                name="lookup",
                arguments={"key": "x", "n": [1, 2.5, None]},
                provider_data={"signature": "abc"},
            ),
            gai.ToolCall(call_id="c2", name="lookup", invalid_arguments="{oops"),
        ),
        usage=gai.Usage(input_tokens=10, output_tokens=3, cache_read_tokens=2),
        finish_reason="tool_calls",
        model_name="m-1",
        answered_by="fallback:b",
        attempts=2,
    )
    sent = gai.Message(
        role="tool",
        parts=(ToolResultPart(call_id="c0", name="lookup", content='é "quoted" \n'),),
    )
    request = ModelRequest(messages=[gai.user("hi"), sent], tools=[ToolDefinition(name="lookup")])
    expected = recorded_response(response, request, 0.25)
    assert RecordedResponse.model_validate_json(recorded_json(response, request, 0.25)) == expected
    started = RecordedResponse.model_validate_json(
        recorded_json(response, request, 0.25, ["c1", "c2"])
    )
    assert started == expected.model_copy(update={"tools_started": ["c1", "c2"]})
