from __future__ import annotations

import asyncio

import pytest

import gai
from gai.resilience import CircuitBreaker, CircuitBreakerModel, FallbackModel, breaker_for
from tests.resilience.conftest import FAST, FakeClock, Lookups, openai_for, run_options
from tests.support.agent_server import AgentServer


def down(status: int = 503):
    def fn(messages, tools):
        cls = (
            gai.errors.ProviderOverloadedError
            if status in (503, 529)
            else gai.errors.ProviderServerError
        )
        raise cls(f"down {status}", provider="primary", status=status, retryable=True)

    return gai.models.FunctionModel(fn, name="primary")


async def test_fallback_moves_on_after_retries_and_records_who_answered(lookups: Lookups):
    async with AgentServer(always="500") as bad, AgentServer(rounds=1) as good:
        async with (
            openai_for(bad) as primary,
            openai_for(good, provider="secondary", base_url=None)
            if False
            else openai_for(good) as secondary,
        ):
            model = FallbackModel([gai.resilience.RetryModel(primary, FAST), secondary])
            result = await gai.generate_text(
                model, prompt="conv", **run_options(lookups, retry=False)
            )
    assert result.text == "done conv"
    assert {s.model for s in result.steps} == {"openai:agent"}
    assert bad.requests == 2 * FAST.max_attempts
    assert result.steps[0].attempts == 1


async def test_fallback_answered_by_is_the_inner_model():
    model = FallbackModel([down(), gai.ScriptedModel(["from backup"], name="backup")])
    result = await gai.generate_text(model, prompt="x")
    assert (result.text, result.steps[0].model) == ("from backup", "backup")
    assert model.name == "fallback:primary"
    async with gai.stream_text(
        FallbackModel([down(), gai.ScriptedModel(["streamed backup"], name="backup")]), prompt="x"
    ) as s:
        assert "".join([t async for t in s.text_stream]) == "streamed backup"
    assert s.result.steps[0].model == "backup"


async def test_fallback_exhausted_carries_every_error():
    with pytest.raises(gai.errors.FallbackExhaustedError) as info:
        await gai.generate_text(FallbackModel([down(503), down(500)]), prompt="x")
    assert [type(e) for e in info.value.errors] == [
        gai.errors.ProviderOverloadedError,
        gai.errors.ProviderServerError,
    ]
    assert info.value.retryable
    assert "all 2 models failed" in str(info.value)


async def test_fallback_does_not_hide_user_errors():
    def misuse(messages, tools):
        raise gai.UserError("bad setting")

    with pytest.raises(gai.UserError, match="bad setting"):
        await gai.generate_text(
            FallbackModel([gai.models.FunctionModel(misuse), gai.TestModel()]), prompt="x"
        )
    with pytest.raises(gai.UserError, match="at least one"):
        FallbackModel([])


async def test_breaker_opens_fails_fast_probes_once_and_closes(clock: FakeClock):
    events: list[tuple[str, str]] = []
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout=30, name="ep", clock=clock)
    breaker.subscribe(lambda e: events.append((e.old, e.new)))
    healthy = False

    async def endpoint(messages, tools):
        if not healthy:
            raise gai.errors.ProviderServerError("500", provider="p", status=500, retryable=True)
        await gate.wait()
        return "ok"

    gate = asyncio.Event()
    gate.set()
    model = CircuitBreakerModel(gai.models.FunctionModel(endpoint), breaker)
    for _ in range(3):
        with pytest.raises(gai.errors.ProviderServerError):
            await gai.generate_text(model, prompt="x")
    assert breaker.state == "open"
    with pytest.raises(gai.errors.CircuitOpenError) as info:
        await gai.generate_text(model, prompt="x")
    assert info.value.retry_after == pytest.approx(30)
    clock.now += 30
    assert breaker.state == "half_open"
    # Many concurrent runs while half-open: exactly one probe reaches the endpoint.
    healthy = True
    gate.clear()
    tasks = [asyncio.create_task(gai.generate_text(model, prompt=f"x{i}")) for i in range(50)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    rejected = [t for t in tasks if t.done()]
    assert len(rejected) == 49
    assert all(isinstance(t.exception(), gai.errors.CircuitOpenError) for t in rejected)
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert sum(1 for r in results if isinstance(r, gai.TextResult)) == 1
    assert breaker.state == "closed"
    assert events == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]
    assert breaker.rejected == 50


async def test_failed_probe_reopens_and_client_errors_do_not_count(clock: FakeClock):
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=10, clock=clock)
    client_error = gai.errors.InvalidRequestError("bad", provider="p", status=400)
    server_error = gai.errors.ProviderServerError("boom", provider="p", status=500, retryable=True)
    for _ in range(5):
        breaker.on_failure(client_error, breaker.before_call())
    assert breaker.state == "closed"
    for _ in range(2):
        breaker.on_failure(server_error, breaker.before_call())
    assert breaker.state == "open"
    clock.now += 10
    probe = breaker.before_call()
    assert probe
    breaker.on_failure(server_error, probe)
    assert breaker.state == "open"
    clock.now += 10
    breaker.on_abandon(breaker.before_call())  # a cancelled probe frees the slot
    assert breaker.before_call()


def test_breakers_are_shared_per_endpoint():
    a = breaker_for("http://one/v1", failure_threshold=2)
    assert breaker_for("http://one/v1") is a
    assert breaker_for("http://two/v1") is not a
    with pytest.raises(ValueError, match="failure_threshold"):
        CircuitBreaker(failure_threshold=0)


async def test_breaker_with_retry_waits_for_half_open(lookups: Lookups):
    async with AgentServer(
        rounds=0, fault_rate=1.0, faults=("500",), max_consecutive_faults=2
    ) as server:
        async with openai_for(server) as raw:
            breaker = CircuitBreaker(failure_threshold=2, reset_timeout=0.01, name="retry+breaker")
            policy = gai.RetryPolicy(max_attempts=5, initial_delay=0.001, max_retry_after=0.05)
            model = gai.resilience.RetryModel(CircuitBreakerModel(raw, breaker), policy)
            result = await gai.generate_text(model, prompt="c")
    assert result.text == "done c"
    assert [e.new for e in breaker.transitions] == ["open", "half_open", "closed"]
