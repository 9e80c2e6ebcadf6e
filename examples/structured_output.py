"""Structured output: a research step with a tool, then an answer validated as a type.

The offline model's first answer breaks the schema (a negative population); gai sends
the validation errors back and the second answer is accepted. `stream_object` then
shows the partial objects of a streamed answer.
"""

from __future__ import annotations

import asyncio

from _shared import pick_model
from pydantic import BaseModel, Field

import gai


class City(BaseModel):
    name: str
    country: str
    population: int = Field(gt=0, description="Inhabitants of the city proper")


@gai.tool
def population(city: str) -> int:
    """Population of a city (census figure)."""
    return {"Lisbon": 545_796}.get(city, 0)


def offline() -> gai.Model:
    def answer(name: str, pop: int) -> gai.ModelResponse:
        arguments = {"name": name, "country": "Portugal", "population": pop}
        return gai.ModelResponse(
            tool_calls=(gai.ToolCall(name="final_result", arguments=arguments),)
        )

    return gai.ScriptedModel(
        [
            gai.ModelResponse(
                tool_calls=(gai.ToolCall(name="population", arguments={"city": "Lisbon"}),)
            ),
            answer("Lisbon", -1),
            answer("Lisbon", 545_796),
            answer("Lisbon", 545_796),
        ],
        name="offline:structured",
    )


async def main() -> None:
    model = pick_model(offline())
    found = await gai.generate_object(
        model, City, prompt="What is the largest city in Portugal?", tools=[population]
    )
    for attempt in found.failed_attempts:
        print(f"refused: {attempt.given}")
    print(f"object: {found.object!r}")
    print(f"steps: {[s.tool_calls[0].name for s in found.result.steps]}")

    async with gai.stream_object(model, City, prompt="And again, streamed?") as stream:
        async for partial in stream:
            print(f"partial: {partial!r}")


if __name__ == "__main__":
    asyncio.run(main())
