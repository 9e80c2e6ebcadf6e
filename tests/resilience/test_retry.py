from __future__ import annotations

import asyncio
import logging

import pytest

import gai
from gai.resilience import RetryModel, RetryPolicy, is_retryable
from tests.resilience.conftest import FAST, FakeClock, Lookups, openai_for, run_options
from tests.support.agent_server import AgentServer


def test_delay_full_jitter_bounds_and_retry_after_cap():
    policy = RetryPolicy(initial_delay=1, multiplier=2, max_delay=5, max_retry_after=10)
    for attempt, bound in ((1, 1), (2, 2), (3, 4), (4, 5), (9, 5)):
        for _ in range(50):
            assert 0 <= policy.delay(attempt, None) <= bound
    assert RetryPolicy(initial_delay=1, jitter=False).delay(3, None) == 4
    err = gai.errors.RateLimitError("slow down", provider="p", retryable=True, retry_after=3)
    assert policy.delay(1, err) == 3
    err.retry_after = 99
    assert policy.delay(1, err) == 10
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (gai.errors.RateLimitError("x", provider="p", retryable=True), True),
        (gai.errors.ProviderServerError("x", provider="p", retryable=True), True),
        (gai.errors.InvalidRequestError("x", provider="p"), False),
        (gai.errors.AuthenticationError("x", provider="p"), False),
        (gai.UserError("x"), False),
        (ValueError("x"), False),
    ],
)
def test_is_retryable(error, retryable):
    assert is_retryable(error) is retryable


@pytest.mark.parametrize("fault", ["429", "500", "503", "529", "drop", "truncate", "malformed"])
@pytest.mark.parametrize("stream", [False, True])
async def test_each_fault_is_retried_and_the_run_succeeds(
    fault: str, stream: bool, lookups: Lookups
):
    async with AgentServer(
        rounds=1, calls_per_round=2, fault_rate=1.0, faults=(fault,), max_consecutive_faults=2
    ) as server:
        async with openai_for(server) as model:
            if stream:
                async with gai.stream_text(model, prompt="conv-1", **run_options(lookups)) as s:
                    async for _ in s:
                        pass
                result = s.result
            else:
                result = await gai.generate_text(model, prompt="conv-1", **run_options(lookups))
    assert result.text.strip() == "done conv-1"
    assert [s.attempts for s in result.steps] == [3, 3]
    assert server.injected[fault] == 4
    assert set(lookups.calls.values()) == {1}
    assert len(lookups.calls) == 2


async def test_stall_past_the_model_call_timeout_is_retried(lookups: Lookups):
    async with AgentServer(
        rounds=1, fault_rate=1.0, faults=("stall",), max_consecutive_faults=1, stall_seconds=5
    ) as server:
        async with openai_for(server) as model:
            result = await gai.generate_text(
                model, prompt="c", timeout=gai.Timeouts(model_call=0.2), **run_options(lookups)
            )
    assert result.stop_reason.kind == "no_more_tools"
    assert [s.attempts for s in result.steps] == [2, 2]


async def test_retry_after_is_honoured(lookups: Lookups, clock: FakeClock):
    policy = RetryPolicy(max_attempts=3, max_retry_after=120, sleep=clock.sleep)
    async with AgentServer(
        rounds=0, fault_rate=1.0, faults=("429",), max_consecutive_faults=2, retry_after="7"
    ) as server:
        async with openai_for(server) as model:
            result = await gai.generate_text(model, prompt="c", retry=policy)
    assert result.steps[0].attempts == 3
    assert clock.sleeps == [7.0, 7.0]


async def test_client_errors_are_not_retried(lookups: Lookups):
    async with AgentServer(always="400") as server:
        async with openai_for(server) as model:
            with pytest.raises(gai.errors.InvalidRequestError):
                await gai.generate_text(model, prompt="c", retry=FAST)
    assert server.requests == 1


async def test_gives_up_after_max_attempts_and_logs_each(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING, logger="gai.retry")
    async with AgentServer(always="503") as server:
        async with openai_for(server) as model:
            with pytest.raises(gai.errors.ProviderOverloadedError) as info:
                await gai.generate_text(model, prompt="c", retry=FAST)
    assert server.requests == 4
    assert info.value.partial_result is not None
    messages = [r.getMessage() for r in caplog.records if r.name == "gai.retry"]
    assert len(messages) == 3
    assert "attempt 1 of 4 failed" in messages[0]


async def test_real_providers_retry_by_default_offline_models_do_not():
    async with AgentServer(
        rounds=0, fault_rate=1.0, faults=("500",), max_consecutive_faults=1, retry_after=None
    ) as server:
        async with openai_for(server) as model:
            result = await gai.generate_text(model, prompt="c")
            assert result.steps[0].attempts == 2
            with pytest.raises(gai.errors.ProviderServerError):
                await gai.generate_text(gai.models.FunctionModel(_always_500), prompt="c")


def _always_500(messages, tools):
    raise gai.errors.ProviderServerError("down", provider="fake", status=500, retryable=True)


async def test_retry_model_wraps_any_model():
    calls = 0

    def flaky(messages, tools):
        nonlocal calls
        calls += 1
        if calls < 3:
            raise gai.errors.ProviderTimeoutError("slow", provider="fake", retryable=True)
        return "finally"

    model = RetryModel(gai.models.FunctionModel(flaky), FAST)
    assert model.name == "function:flaky"
    result = await gai.generate_text(model, prompt="x")
    assert (result.text, result.steps[0].attempts) == ("finally", 3)
    async with gai.stream_text(RetryModel(gai.models.FunctionModel(flaky), FAST), prompt="x") as s:
        assert [t async for t in s.text_stream] == ["finally"]


async def test_every_wrapper_takes_model_strings_and_runs_everywhere():
    limiter = gai.RateLimiter(requests_per_minute=600)
    wrapped = [
        gai.resilience.RetryModel("test"),
        gai.resilience.CircuitBreakerModel("test"),
        gai.resilience.RateLimitedModel("test", limiter),
        gai.resilience.RateLimitedModel(
            gai.resilience.CircuitBreakerModel(gai.resilience.RetryModel("test")), limiter
        ),
        gai.FallbackModel([gai.resilience.CircuitBreakerModel("test"), "test"]),
    ]
    for model in wrapped:
        assert model.name.endswith("test")
        result = await gai.generate_text(model, prompt="hi")
        assert result.text
        async with gai.stream_text(model, prompt="hi") as stream:
            texts = [t async for t in stream.text_stream]
        assert "".join(texts) == stream.result.text
        answer = await gai.generate_object(model, dict, prompt="hi", mode="tool")
        assert isinstance(answer.object, dict)
    with pytest.raises(gai.errors.UnknownModelError):
        gai.resilience.RetryModel("nope:model")


def test_a_retry_shows_on_stderr_without_any_logging_setup(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "flaky.py"
    script.write_text(
        "import gai\n"
        "calls = []\n"
        "def answer(messages, tools):\n"
        "    calls.append(1)\n"
        "    if len(calls) == 1:\n"
        "        raise gai.errors.ProviderServerError('upstream hiccup', provider='x', retryable=True)\n"
        "    return 'fine'\n"
        "model = gai.resilience.RetryModel(gai.models.FunctionModel(answer), gai.RetryPolicy(initial_delay=0))\n"
        "print(gai.generate_text_sync(model, prompt='x').text)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "fine"
    assert "attempt 1 of 10 failed (x: upstream hiccup); retrying" in done.stderr
    assert "stopped after" not in done.stderr  # INFO stays silent: only warnings show


async def test_the_default_policy_gives_up_on_a_dead_provider_within_its_bound():
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    policy = gai.RetryPolicy(sleep=sleep, jitter=False)  # the defaults, at their bounds
    calls: list[int] = []

    def dead(messages, tools):
        calls.append(1)
        raise gai.errors.ProviderConnectionError("connection refused", provider="x", retryable=True)

    with pytest.raises(gai.errors.ProviderConnectionError):
        await gai.generate_text(gai.models.FunctionModel(dead), prompt="x", retry=policy)
    assert len(calls) == gai.RetryPolicy().max_attempts == 10
    assert sum(waits) == 32.5  # the worst case the docs state: 0.5 + 1 + 2 + 4 + 5 x 5


async def test_no_retry_starts_past_max_elapsed():
    calls: list[int] = []

    async def slow_failure(messages, tools):
        calls.append(1)
        await asyncio.sleep(0.1)
        raise gai.errors.ProviderServerError("down", provider="x", retryable=True)

    policy = gai.RetryPolicy(initial_delay=0, max_elapsed=0.25)
    with pytest.raises(gai.errors.ProviderServerError):
        await gai.generate_text(gai.models.FunctionModel(slow_failure), prompt="x", retry=policy)
    assert 1 <= len(calls) <= 3  # not 10: the budget ran out
    with pytest.raises(gai.ConfigError, match="max_elapsed"):
        gai.RetryPolicy(max_elapsed=0)
