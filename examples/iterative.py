"""The seed's iterative workflow: sample, train, validate, measure, until accuracy > 95%."""

from __future__ import annotations

import asyncio

from _shared import pick_model, tool_outputs

import gai
from gai.stop import ToolResultMatches

ROUND = ["sample_data", "train_model", "validate_model", "calculate_metrics"]
ACCURACY = [0.81, 0.88, 0.93, 0.962]  # what each round of training reaches


class Trainer:
    """A training job whose accuracy improves with each round."""

    def __init__(self) -> None:
        self.rounds = 0

    def tools(self) -> list[gai.Tool]:
        def sample_data(size: int = 1000) -> str:
            """Draw a fresh training sample."""
            return f"sampled {size} rows"

        def train_model() -> str:
            """Train on the latest sample."""
            self.rounds += 1
            return f"trained round {self.rounds}"

        def validate_model() -> str:
            """Validate on the held-out set."""
            return "validated"

        def calculate_metrics() -> str:
            """Metrics of the latest model."""
            accuracy = ACCURACY[min(self.rounds, len(ACCURACY)) - 1]
            return f"accuracy {accuracy:.1%}"

        return [
            gai.Tool(name=f.__name__, fn=f)
            for f in (sample_data, train_model, validate_model, calculate_metrics)
        ]


def offline(messages, tools) -> gai.ModelResponse:
    """Runs the four tools of a round in order, round after round."""
    name = ROUND[len(tool_outputs(messages)) % len(ROUND)]
    return gai.ModelResponse(tool_calls=(gai.ToolCall(name=name),))


async def main() -> None:
    trainer = Trainer()
    result = await gai.generate_text(
        pick_model(gai.models.FunctionModel(offline, name="offline:iterative")),
        system="You are an ML engineer. Improve the model until the target is reached.",
        prompt="Train to >95% accuracy: sample, train, validate, measure; at most 10 rounds.",
        tools=trainer.tools(),
        stop_when=gai.MaxSteps(40)
        | ToolResultMatches("calculate_metrics", r"accuracy 9[5-9]\.\d%"),
    )
    metrics = [
        r.content for s in result.steps for r in s.tool_results if r.name == "calculate_metrics"
    ]
    print(f"rounds: {trainer.rounds}")
    print(f"metrics by round: {', '.join(metrics)}")
    print(f"stopped: {result.stop_reason}")


if __name__ == "__main__":
    asyncio.run(main())
