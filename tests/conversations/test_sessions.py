"""gai.Session on every backend: the same behaviour suite for memory, SQLite, PostgreSQL, Redis."""

from __future__ import annotations

import asyncio

import pytest

import gai
from gai.context import DropOldest
from gai.errors import SessionConflictError, UserError
from gai.store import BaseStore, SessionItem
from tests.conversations.chat import chat_model, lookup


async def chat(session: gai.Session, number: int, **options: object) -> gai.TextResult:
    return await gai.generate_text(
        chat_model(), prompt=f"turn {number}: hello", tools=[lookup], session=session,
        stop_when=gai.NoMoreTools(), **options,  # type: ignore[arg-type]
    )  # fmt: skip


async def test_turns_build_one_conversation(store: BaseStore):
    session = gai.Session("chat-1", store=store)
    for number in range(1, 5):
        result = await chat(session, number)
        assert result.text == f"answer {number}"
    messages = await session.messages()
    texts = [(m.role, m.text) for m in messages]
    assert texts[:2] == [("user", "turn 1: hello"), ("assistant", "answer 1")]
    # Turn 3 used the tool: the call and its result are kept together, in order.
    assert [m.role for m in messages[4:8]] == ["user", "assistant", "tool", "assistant"]
    assert messages[5].tool_calls[0].call_id == messages[6].tool_results[0].call_id
    assert len(messages) == 10
    # The run saw the conversation so far: its own result holds it all.
    assert [m.text for m in result.messages] == [m.text for m in messages]
    items = await session.items()
    assert [i.seq for i in items] == list(range(1, 11))
    assert [i.turn for i in items][-2:] == [4, 4]
    assert {i.run_id for i in items if i.turn == 4} == {result.run_id}
    listed = await store.list_sessions()
    assert [(s.session_id, s.items, s.turns) for s in listed] == [("chat-1", 10, 4)]


async def test_pop_clear_add_and_delete(store: BaseStore):
    session = gai.Session("chat-2", store=store)
    await session.add([gai.user("turn 1: hi"), gai.assistant("hello")])
    await chat(session, 2)
    undone = await session.pop()
    assert [m.text for m in undone] == ["turn 2: hello", "answer 2"]
    assert [m.text for m in await session.messages()] == ["turn 1: hi", "hello"]
    await chat(session, 2)  # the undone turn again, numbered after what is left
    assert [i.seq for i in await session.items()] == [1, 2, 3, 4]
    await session.clear()
    assert await session.messages() == []
    assert await session.pop() == []
    await chat(session, 1)
    await store.delete_session("chat-2")
    assert await store.list_sessions() == []
    with pytest.raises(UserError, match=r"messages\[0\] must be a gai\.Message"):
        await session.add(["hi"])  # type: ignore[list-item]


async def test_sessions_are_separate(store: BaseStore):
    a, b = gai.Session("a", store=store), gai.Session("b", store=store)
    await chat(a, 1)
    await chat(b, 7)
    assert [m.text for m in await a.messages()] == ["turn 1: hello", "answer 1"]
    assert [m.text for m in await b.messages()] == ["turn 7: hello", "answer 7"]
    assert sorted(s.session_id for s in await store.list_sessions()) == ["a", "b"]


async def test_runs_on_one_session_in_one_process_take_turns(store: BaseStore):
    session = gai.Session("busy", store=store)
    results = await asyncio.gather(*(chat(session, n) for n in range(1, 7)))
    messages = await session.messages()
    # Each turn's messages are together: the conversation is never interleaved.
    users = [i for i, m in enumerate(messages) if m.role == "user"]
    for start, end in zip(users, [*users[1:], len(messages)], strict=True):
        number = messages[start].text.split()[1].rstrip(":")
        assert messages[end - 1].text == f"answer {number}"
    assert len(users) == 6
    # A later run saw the earlier ones' turns.
    assert max(len(r.messages) for r in results) == len(messages)


async def test_a_writer_in_another_process_is_refused_not_interleaved(store: BaseStore):
    session = gai.Session("shared", store=store)
    await chat(session, 1)

    async def other_process_writes(messages: object) -> None:
        # What a run in another process does while this one waits on its model.
        await store._session_append(
            "shared", [SessionItem(seq=3, turn=2, kind="message", data='{"role":"user"}')]
        )

    with pytest.raises(SessionConflictError, match="another run") as info:
        await chat(session, 2, on_step_finish=None, prepare_step=other_process_writes)
    assert info.value.partial_result is not None  # the run's steps stay available
    items = await session.items()
    assert [(i.seq, i.turn) for i in items] == [(1, 1), (2, 1), (3, 2)]


async def test_a_context_policy_compacts_the_session(store: BaseStore):
    session = gai.Session("long", store=store, context=DropOldest(max_tokens=100))
    for number in range(1, 9):
        await chat(session, number)
    messages = await session.messages()
    assert messages[0].text == gai.context.TRIMMED_NOTE
    assert messages[-1].text == "answer 8"
    assert any(i.kind == "reset" for i in await session.items())
    # pop() undoes the last turn's trimming too.
    before_last = len(messages)
    await session.pop()
    assert [m.text for m in await session.messages()][-1] == "answer 7"
    assert len(await session.messages()) != before_last


async def test_a_paused_run_on_a_session_resumes_into_the_same_turn(store: BaseStore):
    session = gai.Session("approvals", store=store)

    @gai.tool(needs_approval=True)
    def lookup(q: str) -> str:
        """Look something up."""
        return f"found {q}"

    paused = await gai.generate_text(
        chat_model(tool_every=1), prompt="turn 3: hi", tools=[lookup], session=session,
        run_store=store, stop_when=gai.NoMoreTools(),
    )  # fmt: skip
    assert paused.stop_reason.kind == "approval_pending"
    call = paused.pending_approvals[0]
    done = await gai.resume(
        paused.run_id, store=store, model=chat_model(tool_every=1), tools=[lookup],
        stop_when=gai.NoMoreTools(), approvals={call.call_id: gai.approve()}, session=session,
    )  # fmt: skip
    assert done.text == "answer 3"
    messages = await session.messages()
    assert [m.role for m in messages] == ["user", "assistant", "tool", "assistant"]
    assert {i.turn for i in await session.items()} == {1}


async def test_session_needs_a_session(store: BaseStore):
    with pytest.raises(UserError, match=r"session must be a gai\.Session"):
        await gai.generate_text("test", prompt="hi", session="chat-1")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="non-empty string"):
        gai.Session("")
    with pytest.raises(UserError, match="Session store must be"):
        gai.Session("x", store=3)  # type: ignore[arg-type]


async def test_streams_and_objects_continue_a_session(store: BaseStore):
    session = gai.Session("variants", store=store)
    async with gai.stream_text(chat_model(), prompt="turn 1: hi", session=session) as stream:
        streamed = "".join([text async for text in stream.text_stream])
    assert streamed == "answer 1"
    answer = gai.ModelResponse(
        tool_calls=(gai.ToolCall(call_id="o", name="final_result", arguments={"result": {"n": 2}}),)
    )
    result = await gai.generate_object(
        gai.ScriptedModel([answer]), dict, prompt="turn 2: as JSON", session=session, mode="tool"
    )
    assert result.object == {"n": 2}
    sent = result.result.messages
    assert [m.text for m in sent[:2]] == ["turn 1: hi", "answer 1"]
    assert [m.role for m in await session.messages()][:3] == ["user", "assistant", "user"]
    synced = await asyncio.to_thread(
        gai.generate_text_sync, chat_model(), prompt="turn 3: sync", session=gai.Session("sync")
    )
    assert synced.text == "answer 3"
