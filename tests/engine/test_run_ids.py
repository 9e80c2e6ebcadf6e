"""Run ids gai makes up: version 7 UUIDs as 32 hex digits, in creation order."""

from __future__ import annotations

import time
import uuid

import gai
from gai._ids import new_run_id
from gai.models import FunctionModel


def test_a_run_id_is_a_version_7_uuid_with_the_time_first() -> None:
    before = time.time_ns() // 1_000_000
    run_id = new_run_id()
    after = time.time_ns() // 1_000_000
    assert len(run_id) == 32
    assert run_id == run_id.lower()
    parsed = uuid.UUID(hex=run_id)
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert before <= int(run_id[:12], 16) <= after


def test_run_ids_sort_by_creation_and_do_not_repeat() -> None:
    first = [new_run_id() for _ in range(5000)]
    time.sleep(0.002)
    later = new_run_id()
    assert len(set(first)) == len(first)
    assert all(run_id < later for run_id in first)
    # The random bits vary within one millisecond (74 of them).
    assert len({run_id[12:] for run_id in first}) == len(first)


async def test_a_run_without_an_id_gets_one() -> None:
    model = FunctionModel(lambda messages, tools: "hi")
    a = await gai.generate_text(model, prompt="x")
    b = await gai.generate_text(model, prompt="x")
    assert uuid.UUID(hex=a.run_id).version == 7
    assert a.run_id < b.run_id or a.run_id[:12] == b.run_id[:12]
    assert a.run_id != b.run_id
