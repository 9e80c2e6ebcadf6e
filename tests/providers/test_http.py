"""The HTTP boundary: status -> error class, retry-after parsing, closing streams early."""

from __future__ import annotations

import asyncio

import pytest

import gai
from gai.providers._http import error_for_status
from gai.providers.openai import OpenAI
from tests.providers.conftest import StartReplay

STATUS_CLASSES = {
    400: gai.errors.InvalidRequestError,
    401: gai.errors.AuthenticationError,
    403: gai.errors.PermissionDeniedError,
    404: gai.errors.NotFoundError,
    408: gai.errors.ProviderTimeoutError,
    409: gai.errors.InvalidRequestError,
    413: gai.errors.InvalidRequestError,
    422: gai.errors.InvalidRequestError,
    429: gai.errors.RateLimitError,
    500: gai.errors.ProviderServerError,
    502: gai.errors.ProviderServerError,
    503: gai.errors.ProviderOverloadedError,
    504: gai.errors.ProviderServerError,
    529: gai.errors.ProviderOverloadedError,
}
RETRYABLE = {408, 409, 429, 500, 502, 503, 504, 529}


@pytest.mark.parametrize("status", sorted(STATUS_CLASSES))
def test_every_status_maps_to_a_class(status):
    err = error_for_status("p", status, {}, b'{"error":{"message":"m"}}')
    assert type(err) is STATUS_CLASSES[status]
    assert err.retryable is (status in RETRYABLE)
    assert (err.status, err.provider, err.message) == (status, "p", "m")


def test_context_length_is_recognised():
    body = b'{"error":{"message":"This model\'s maximum context length is 8192 tokens","code":"context_length_exceeded"}}'
    assert type(error_for_status("openai", 400, {}, body)) is gai.errors.ContextLengthError
    anthropic = b'{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}'
    assert isinstance(
        error_for_status("anthropic", 400, {}, anthropic), gai.errors.ContextLengthError
    )


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"retry-after": "7"}, b"{}", 7.0),
        ({"retry-after-ms": "1500"}, b"{}", 1.5),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, b"{}", 0.0),
        ({}, b'{"error":{"message":"Rate limit reached. Please try again in 2.5s."}}', 2.5),
        ({}, b'{"error":{"message":"Please try again in 120ms"}}', 0.12),
        ({"retry-after": "999999"}, b"{}", 3600.0),
        ({}, b"not json at all", None),
    ],
)
def test_retry_after_from_headers_and_bodies(headers, body, expected):
    err = error_for_status("p", 429, headers, body)
    if expected is None:
        assert err.retry_after is None
    else:
        assert err.retry_after == pytest.approx(expected)


def test_should_retry_header_wins_and_non_json_body_is_kept():
    err = error_for_status("anthropic", 500, {"x-should-retry": "false"}, b"<html>oops</html>")
    assert not err.retryable
    assert err.message == "<html>oops</html>"
    assert "anthropic HTTP 500: <html>oops</html>" in str(err)


async def test_leaving_a_stream_early_closes_the_http_stream(replay: StartReplay):
    server = await replay(
        "openai_chat/stream_text_with_usage.yaml", faults={0: "slow_stream"}, slow_seconds=0.05
    )
    async with OpenAI("gpt-4o-mini", api_key="k", base_url=server.url("/v1")) as model:
        async with gai.stream_text(model, prompt="x") as stream:
            async for event in stream:
                if isinstance(event, gai.types.TextDelta):
                    break
        await asyncio.wait_for(server.disconnected.wait(), timeout=5)
    assert server.disconnects == 1
