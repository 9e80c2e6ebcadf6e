"""`WorkflowTemplate`: named steps with Jinja2 prompts, run one after another.

Each step is one multi-step run. Variables are the template's defaults overlaid with
the caller's; every earlier step's answer is available as `<step name>_result`.
Prompts render in Jinja2's sandbox with undefined variables as errors, so a typo is
an error before any model is called, not an empty string in a prompt.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gai.errors import MissingExtraError, MissingVariablesError, TemplateError
from gai.providers.base import Model
from gai.stop import MaxSteps, StopCondition, any_of
from gai.tools import Tool, ToolRegistry
from gai.types import TextResult, Usage

__all__ = ["TemplateResult", "TemplateStep", "WorkflowTemplate"]


def _jinja() -> Any:
    try:
        from jinja2 import StrictUndefined, meta
        from jinja2.sandbox import SandboxedEnvironment
    except ImportError as exc:
        raise MissingExtraError("jinja2", "workflows") from exc
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False), meta


class TemplateStep(BaseModel):
    """One step of a template: a prompt pair, its tools and its limits."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    name: str
    """Unique within the template; its answer becomes `<name>_result`."""
    system_prompt: str = ""
    """Jinja2 template of the system prompt."""
    user_prompt: str
    """Jinja2 template of the user prompt."""
    required_vars: list[str] = Field(default_factory=list)
    """Variables this step needs (checked, with the prompts' own, before running)."""
    tools: list[str] = Field(default_factory=list)
    """Names of tools in the registry given to `run`."""
    max_steps: int = 10
    """Step limit of this run."""
    stop_when: StopCondition | None = Field(default=None, exclude=True)
    """More stop conditions in code (with `max_steps`); not saved to files."""


class TemplateResult(BaseModel):
    """What a template run produced: each step's result, in order."""

    model_config = ConfigDict(frozen=True)

    template: str
    results: dict[str, TextResult]
    """Each step's `TextResult`, by step name, in run order."""
    durations: dict[str, float]
    """Seconds each step took (wall time)."""
    variables: dict[str, Any]
    """The variables at the end: inputs plus every `<step>_result`."""

    @property
    def text(self) -> str:
        """The last step's answer."""
        return list(self.results.values())[-1].text if self.results else ""

    @property
    def usage(self) -> Usage:
        """Usage summed over every step."""
        return sum((r.usage for r in self.results.values()), Usage())


class WorkflowTemplate(BaseModel):
    """A reusable workflow: steps with prompt templates, run in order.

    Load one with `WorkflowTemplate.load("flow.yaml")` (YAML or TOML), or build it in
    code; `validate_for(registry, variables)` checks it without running; `run(...)` runs
    it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    steps: list[TemplateStep]
    default_vars: dict[str, Any] = Field(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        """Reject duplicate step names and empty templates."""
        names = [s.name for s in self.steps]
        if not names:
            raise TemplateError(f"Template {self.name!r} has no steps.")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise TemplateError(
                f"Template {self.name!r} repeats step names: {', '.join(duplicates)}."
            )

    # --- files ------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path) -> WorkflowTemplate:
        """Read a template from a .yaml/.yml or .toml file.

        Raises:
            TemplateError: The file cannot be parsed or does not describe a template.
        """
        path = Path(path)
        text = path.read_text()
        try:
            if path.suffix == ".toml":
                import tomllib

                data = tomllib.loads(text)
            else:
                try:
                    import yaml
                except ImportError as exc:
                    raise MissingExtraError("pyyaml", "workflows") from exc
                data = yaml.safe_load(text)
        except (ValueError, TypeError) as exc:
            raise TemplateError(f"Cannot parse {path}: {exc}") from exc
        except Exception as exc:  # yaml.YAMLError and friends
            if isinstance(exc, MissingExtraError):
                raise
            raise TemplateError(f"Cannot parse {path}: {exc}") from exc
        try:
            return cls.model_validate(data)
        except Exception as exc:
            if isinstance(exc, TemplateError):
                raise
            raise TemplateError(f"{path} is not a valid workflow template: {exc}") from exc

    def save(self, path: str | Path) -> None:
        """Write the template as YAML or TOML (by the file's suffix)."""
        path = Path(path)
        data = self.model_dump(mode="json")
        if path.suffix == ".toml":
            try:
                import tomli_w
            except ImportError as exc:
                raise MissingExtraError("tomli-w", "workflows") from exc
            path.write_text(tomli_w.dumps(data))
        else:
            try:
                import yaml
            except ImportError as exc:
                raise MissingExtraError("pyyaml", "workflows") from exc
            path.write_text(yaml.safe_dump(data, sort_keys=False))

    # --- checks -----------------------------------------------------------------------

    def variables(self, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The defaults overlaid with `given`."""
        return {**self.default_vars, **(given or {})}

    def missing_variables(self, given: Mapping[str, Any] | None = None) -> list[str]:
        """Every variable some step needs that nothing provides.

        Provided are the defaults, `given`, and every earlier step's `<name>_result`.
        """
        env, meta = _jinja()
        available = set(self.variables(given))
        missing: set[str] = set()
        for step in self.steps:
            needed = set(step.required_vars)
            for source in (step.system_prompt, step.user_prompt):
                try:
                    needed |= meta.find_undeclared_variables(env.parse(source))
                except Exception as exc:
                    raise TemplateError(
                        f"Step {step.name!r} of {self.name!r} has an invalid prompt: {exc}"
                    ) from exc
            missing |= needed - available
            available.add(f"{step.name}_result")
        return sorted(missing)

    def validate_for(
        self, registry: ToolRegistry | None = None, variables: Mapping[str, Any] | None = None
    ) -> None:
        """Check the template can run: every variable and every tool is known.

        Raises:
            MissingVariablesError: Variables are missing (all of them are listed).
            TemplateError: A step names a tool the registry does not have.
        """
        missing = self.missing_variables(variables)
        if missing:
            raise MissingVariablesError(self.name, missing)
        unknown = sorted(
            {
                f"{s.name}: {t}"
                for s in self.steps
                for t in s.tools
                if registry is None or t not in registry
            }
        )
        if unknown:
            raise TemplateError(
                f"Template {self.name!r} uses tools the registry does not have "
                f"({', '.join(unknown)}); register them in the ToolRegistry passed to run()."
            )

    # --- running ----------------------------------------------------------------------

    def _render(self, env: Any, step: TemplateStep, source: str, values: dict[str, Any]) -> str:
        if not source:
            return ""
        try:
            return str(env.from_string(source).render(values))
        except Exception as exc:  # jinja2's SecurityError, UndefinedError, TemplateError
            raise TemplateError(
                f"Step {step.name!r} of {self.name!r} cannot be rendered: {exc}"
            ) from exc

    async def run(
        self,
        model: Model | str,
        variables: Mapping[str, Any] | None = None,
        *,
        registry: ToolRegistry | None = None,
        **options: Any,
    ) -> TemplateResult:
        """Render and run every step in order.

        Args:
            model: The model for every step.
            variables: Values for the prompts (over `default_vars`).
            registry: Where the steps' tool names are looked up.
            **options: More `generate_text` options for every step (retry, budget...).

        Raises:
            MissingVariablesError: Before any step runs, if variables are missing.
            TemplateError: Before any step runs, if a tool name is unknown.
            GaiError: A step failed; `partial_result` is that step's partial result.
        """
        from gai.engine.run import generate_text

        self.validate_for(registry, variables)
        env, _ = _jinja()
        values = self.variables(variables)
        results: dict[str, TextResult] = {}
        durations: dict[str, float] = {}
        for step in self.steps:
            tools: Sequence[Tool] = registry.resolve(step.tools) if registry else []
            system = self._render(env, step, step.system_prompt, values) or None
            prompt = self._render(env, step, step.user_prompt, values)
            started = time.perf_counter()
            result = await generate_text(
                model,
                prompt=prompt,
                system=system,
                tools=tools,
                stop_when=(
                    any_of(MaxSteps(step.max_steps), step.stop_when)
                    if step.stop_when
                    else MaxSteps(step.max_steps)
                ),
                **options,
            )
            durations[step.name] = time.perf_counter() - started
            results[step.name] = result
            values[f"{step.name}_result"] = result.text
        return TemplateResult(
            template=self.name, results=results, durations=durations, variables=values
        )
