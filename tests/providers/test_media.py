"""Images, documents and audio in: each provider's recorded request, replayed and compared."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import gai
from gai.providers.anthropic import Anthropic
from gai.providers.gemini import Gemini
from gai.providers.ollama import Ollama
from gai.providers.openai import OpenAI
from gai.providers.openai_responses import OpenAIResponses
from gai.types import File
from tests.providers.conftest import StartReplay

# Fields the recording clients add with their default values; gai leaves them out.
_DEFAULTS = {("cache_control", None), ("detail", "auto"), ("type", "message")}


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {
            k: _plain(v)
            for k, v in value.items()
            if not (isinstance(v, str | None) and (k, v) in _DEFAULTS)
        }
    return value


def _anthropic(url: str) -> gai.Model:
    return Anthropic("claude-sonnet-4-5", api_key="k", base_url=url)


def _chat(url: str) -> gai.Model:
    return OpenAI("gpt-4o-mini", api_key="k", base_url=url + "/v1")


def _responses(url: str) -> gai.Model:
    return OpenAIResponses("gpt-4o-mini", api_key="k", base_url=url + "/v1")


def _gemini(url: str) -> gai.Model:
    return Gemini("gemini-2.5-flash", api_key="k", base_url=url)


def _user_content(body: dict[str, Any]) -> list[Any]:
    """The first user message's content blocks, in whichever protocol `body` is."""
    if "contents" in body:
        return list(body["contents"][0]["parts"])
    turns = body.get("messages") or body["input"]
    return list(turns[0]["content"])


def _file(block: dict[str, Any], filename: str | None) -> File:
    """The `File` a recorded content block was made from."""
    if block.get("type") in ("image", "document"):
        source = block["source"]
        if source["type"] == "url":
            return File.from_url(source["url"])
        return File(media_type=source["media_type"], data=source["data"])
    if block.get("type") == "image_url":
        url = block["image_url"]["url"]
        return _from_url_or_data(url)
    if block.get("type") == "input_image":
        return _from_url_or_data(block["image_url"])
    if block.get("type") == "file":
        return _from_url_or_data(block["file"]["file_data"], block["file"]["filename"])
    if block.get("type") == "input_file":
        return _from_url_or_data(block["file_data"], block["filename"])
    if block.get("type") == "input_audio":
        return File(media_type="audio/mpeg", data=block["input_audio"]["data"])
    if "inlineData" in block:
        inline = block["inlineData"]
        return File(media_type=inline["mimeType"], data=inline["data"], filename=filename)
    raise AssertionError(f"no file in {block}")


def _from_url_or_data(url: str, filename: str | None = None) -> File:
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        return File(media_type=header[5:].split(";")[0], data=data, filename=filename)
    return File.from_url(url)


def _text(block: dict[str, Any]) -> str:
    return str(block["text"])


CASES: list[tuple[str, Callable[[str], gai.Model]]] = [
    ("anthropic/document_pdf_base64.yaml", _anthropic),
    ("anthropic/image_url_input.yaml", _anthropic),
    ("openai_chat/file_pdf_base64_input.yaml", _chat),
    ("openai_chat/image_base64_input.yaml", _chat),
    ("openai_chat/image_url_input.yaml", _chat),
    ("openai_chat/input_audio_mp3.yaml", _chat),
    ("openai_responses/input_file_pdf_base64.yaml", _responses),
    ("openai_responses/image_url_input.yaml", _responses),
    ("gemini/pdf_inline_data.yaml", _gemini),
    ("gemini/image_inline_base64.yaml", _gemini),
]


@pytest.mark.parametrize(("fixture", "make"), CASES, ids=[c[0] for c in CASES])
async def test_a_file_in_a_user_message_is_sent_as_the_provider_takes_it(
    replay: StartReplay, fixture: str, make: Callable[[str], gai.Model]
) -> None:
    server = await replay(fixture)
    recorded = _user_content(server.exchanges[0].request_json)
    text, block = recorded
    async with make(server.url("")) as model:  # type: ignore[attr-defined]
        result = await gai.generate_text(
            model, messages=[gai.user(_text(text), _file(block, None))]
        )
    assert result.text
    assert _plain(_user_content(server.received[0].json)) == _plain(recorded)


async def test_a_file_read_from_disk_travels_inline(replay: StartReplay, tmp_path: Path) -> None:
    server = await replay("anthropic/document_pdf_base64.yaml")
    text, block = _user_content(server.exchanges[0].request_json)
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(base64.b64decode(block["source"]["data"]))
    async with _anthropic(server.url("")) as model:  # type: ignore[attr-defined]
        await gai.generate_text(model, messages=[gai.user(text["text"], File.from_path(pdf))])
    sent = _user_content(server.received[0].json)[1]
    assert sent == {"type": "document", "source": block["source"]}


@pytest.mark.parametrize(
    ("make", "file", "message"),
    [
        (
            _anthropic,
            File(media_type="audio/mpeg", data="AAAA"),
            "anthropic does not take audio/mpeg",
        ),
        (_chat, File.from_url("https://example.com/a.pdf"), "documents inline"),
        (_responses, File(media_type="audio/wav", data="AAAA"), "takes images and documents"),
        (
            lambda url: Ollama("llava", base_url=url),
            File(media_type="application/pdf", data="AAAA"),
            "Ollama takes images only",
        ),
    ],
    ids=["anthropic-audio", "chat-pdf-url", "responses-audio", "ollama-pdf"],
)
async def test_a_file_a_provider_cannot_take_is_a_user_error_before_sending(
    replay: StartReplay, make: Callable[[str], gai.Model], file: File, message: str
) -> None:
    server = await replay("anthropic/text_basic.yaml")
    async with make(server.url("")) as model:  # type: ignore[attr-defined]
        with pytest.raises(gai.UserError, match=message):
            await gai.generate_text(model, messages=[gai.user("What is this?", file)])
    assert server.received == []


def test_a_file_keeps_its_bytes_out_of_its_repr() -> None:
    pdf = File.from_bytes(b"%PDF-1.4 secret", "application/pdf", "a.pdf")
    assert repr(pdf) == "File(application/pdf, 15 bytes)"
    assert "secret" not in repr(gai.user("read", pdf))
    assert pdf.file_kind == "document"
    assert File.model_validate_json(pdf.model_dump_json()) == pdf
    with pytest.raises(ValueError, match=r"either data= .* or url="):
        File(media_type="image/png")


PNG = File(media_type="image/png", data=base64.b64encode(b"\x89PNG fake").decode())


def _returns_a_chart(name: str, parameter: str) -> gai.Tool:
    return gai.Tool(
        name=name,
        description="Look it up; the answer comes with a chart.",
        fn=lambda **arguments: [f"Here is the chart for {arguments[parameter]}.", PNG],
        parameters={"type": "object", "properties": {parameter: {"type": "string"}}},
    )


TOOL_FILE_CASES: list[tuple[str, Callable[[str], gai.Model], str, str]] = [
    ("anthropic/tool_call_single_with_result.yaml", _anthropic, "get_weather", "city"),
    ("openai_chat/tool_call_single_with_result.yaml", _chat, "get_weather", "city"),
    ("openai_responses/function_call_with_result.yaml", _responses, "get_capital", "country"),
    ("gemini/tool_call_single_with_result.yaml", _gemini, "get_weather", "city"),
]


def _sent_result(body: dict[str, Any]) -> Any:
    """What the follow-up request carries for the tool's result, in each protocol."""
    if "contents" in body:
        return body["contents"][-1]["parts"]
    if "input" in body:
        return next(i for i in body["input"] if i.get("type") == "function_call_output")["output"]
    messages = body["messages"]
    if messages[-1]["role"] == "user" and messages[-2].get("role") == "tool":
        return messages[-2:]  # OpenAI chat: the tool message, then the files
    return messages[-1]["content"][0]["content"]  # Anthropic: the tool_result's content


async def test_a_tool_can_return_a_file_and_each_provider_gets_it_with_the_result(
    replay: StartReplay,
) -> None:
    sent: dict[str, Any] = {}
    for fixture, make, name, parameter in TOOL_FILE_CASES:
        server = await replay(fixture)
        async with make(server.url("")) as model:  # type: ignore[attr-defined]
            result = await gai.generate_text(
                model,
                prompt="Look it up",
                tools=[_returns_a_chart(name, parameter)],
                stop_when=gai.MaxSteps(3),
            )
        (tool_result,) = result.steps[0].tool_results
        assert tool_result.files == (PNG,)
        assert tool_result.content.startswith("Here is the chart for ")
        sent[fixture.split("/")[0]] = _sent_result(server.received[1].json)
    data = PNG.data
    text = sent["anthropic"][0]["text"]
    assert sent["anthropic"] == [
        {"type": "text", "text": text},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}},
    ]
    tool_message, files = sent["openai_chat"]
    assert tool_message["content"].startswith("Here is the chart for ")
    assert files["role"] == "user"
    assert files["content"][1] == {
        "type": "image_url",
        "image_url": {"url": f"data:image/png;base64,{data}"},
    }
    assert sent["openai_responses"][1] == {
        "type": "input_image",
        "image_url": f"data:image/png;base64,{data}",
    }
    assert sent["gemini"][-1] == {"inlineData": {"mimeType": "image/png", "data": data}}
    assert "functionResponse" in sent["gemini"][0]


async def test_a_file_a_tool_returned_is_kept_in_the_store_and_comes_back(tmp_path: Path) -> None:
    store = gai.store.SQLiteStore(tmp_path / "runs.db")
    call = gai.ToolCall(call_id="c1", name="chart", arguments={"q": "sales"})
    model = gai.ScriptedModel([gai.ModelResponse(tool_calls=(call,)), "Done."])
    chart = gai.Tool(
        name="chart",
        description="Draw a chart.",
        fn=lambda q: ["chart of " + q, PNG],
        parameters={"type": "object", "properties": {"q": {"type": "string"}}},
    )
    result = await gai.generate_text(
        model,
        messages=[gai.user("Chart the sales", File.from_bytes(b"%PDF-1.4", "application/pdf"))],
        tools=[chart],
        run_store=store,
        run_id="with-files",
        stop_when=gai.MaxSteps(3),
    )
    record = await store.load_run("with-files")
    await store.aclose()
    assert record.result is not None
    assert record.result.steps[0].tool_results[0].files == (PNG,)
    assert record.result.messages[0].parts[1] == result.messages[0].parts[1]
    assert record.snapshot.messages[0].parts[1] == File.from_bytes(b"%PDF-1.4", "application/pdf")


async def test_files_in_and_out_survive_a_crash_and_resume_from_sqlite(tmp_path: Path) -> None:
    # A PDF and an image in; a tool returns an image; the process dies after the first
    # step. Resumed from SQLite, the next request carries every file as it was.
    class Crash(BaseException):
        pass

    pdf = File.from_bytes(b"%PDF-1.4 quarterly report", "application/pdf", "q3.pdf")
    photo = File.from_bytes(b"\x89PNG photo", "image/png", "shelf.png")
    call = gai.ToolCall(call_id="c1", name="chart", arguments={"q": "sales"})
    chart = gai.Tool(
        name="chart",
        description="Draw a chart.",
        fn=lambda q: ["chart of " + q, PNG],
        parameters={"type": "object", "properties": {"q": {"type": "string"}}},
    )

    async def crash(step: gai.Step) -> None:
        raise Crash

    store = gai.store.SQLiteStore(tmp_path / "runs.db")
    with pytest.raises(Crash):
        await gai.generate_text(
            gai.ScriptedModel([gai.ModelResponse(tool_calls=(call,))]),
            messages=[gai.user("Compare the report with the shelf", pdf, photo)],
            tools=[chart],
            run_store=store,
            run_id="crashed",
            on_step_finish=crash,
            stop_when=gai.MaxSteps(3),
        )
    await store.aclose()

    store = gai.store.SQLiteStore(tmp_path / "runs.db")
    model = gai.ScriptedModel(["They match."])
    result = await gai.resume(
        "crashed", store=store, model=model, tools=[chart], stop_when=gai.MaxSteps(3)
    )
    await store.aclose()
    assert result.text == "They match."
    (request,) = model.requests
    first, answer, results = request.messages
    assert first.parts[1:] == (pdf, photo)
    assert results.tool_results[0].files == (PNG,)
    assert answer.tool_calls[0].call_id == "c1"
