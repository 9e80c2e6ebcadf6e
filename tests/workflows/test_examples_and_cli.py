"""The workflow examples run as scripts, and `gai workflow` runs and checks templates."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gai.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TEMPLATE = EXAMPLES / "templates" / "research_report.yaml"

EXPECTED = {
    "sequential.py": [
        "step 1: get_sales_data",
        "step 4: generate_report -> REPORT: east leads",
        "stopped: tool_seen: tool 'generate_report' was called in step 4",
    ],
    "morning_briefing.py": ["4 tools in parallel"],
    "conditional.py": [
        "step 2: analyze_logs -> db: disk full on primary; notify -> paged on-call",
        "step 3: failover -> db on standby; SYSTEM_STABLE",
    ],
    "iterative.py": ["rounds: 4", "accuracy 96.2%", "in step 16 matches"],
    "stateful.py": [
        "stopped: condition: progress 100% reached 100%",
        "saved state: phase=load progress=100%",
    ],
    "multi_agent.py": [
        "writer: October was strong.",
        "triage -> billing : Refund issued.",
        "Board summary: Q4 revenue about $40k.",
        "analyst: 2 runs",
    ],
    "hierarchical.py": [
        "create_subtask refused: Tool 'create_subtask' failed: TaskTreeError: No task 'T9'",
        "mark_complete refused",
        "  - T3 Build: open [2 engineers] (after T2)",
        "  - T4 Content: escalated",
        "progress: 25%",
    ],
    "template.py": [
        "without variables: Template 'research_report' needs variables that were not given: topic.",
        "research (",
        "write (",
    ],
    "structured_output.py": [
        'refused: {"name":"Lisbon","country":"Portugal","population":-1}',
        "object: City(name='Lisbon', country='Portugal', population=545796)",
        "steps: ['population', 'final_result', 'final_result']",
        "partial: {'name': 'Lisbon', 'country': 'Port'}",
        "partial: City(name='Lisbon', country='Portugal', population=545796)",
    ],
    "composite.py": [
        "run 1: ran ['market', 'tech', 'decision'], reused []",
        "run 2: ran [], reused ['market', 'tech', 'decision']",
        "decision: [Go or no-go? Market: [Size the market for a solar kettle.]",
    ],
}


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_example_runs_offline(script):
    env = {k: v for k, v in os.environ.items() if k != "GAI_MODEL" and not k.endswith("_API_KEY")}
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    for line in EXPECTED[script]:
        assert line in proc.stdout, f"{line!r} not in:\n{proc.stdout}"


def test_every_example_is_tested():
    scripts = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert scripts == set(EXPECTED)


def test_example_runs_on_the_model_named_by_gai_model():
    env = {**os.environ, "GAI_MODEL": "test"}
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "template.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "test answer to: Collect the key facts about tidal energy" in proc.stdout


def test_cli_validate_and_run(capsys):
    assert main(["workflow", "validate", str(TEMPLATE), "--var", "topic=tides"]) == 0
    assert "research_report: 3 steps, ok" in capsys.readouterr().out
    assert main(["workflow", "run", str(TEMPLATE), "--var", "topic=tides", "--model", "test"]) == 0
    out = capsys.readouterr().out
    assert "[outline]" in out
    assert "test answer to: Collect the key facts about tides for engineers." in out


def test_cli_reports_missing_variables_and_bad_arguments(capsys, tmp_path):
    assert main(["workflow", "validate", str(TEMPLATE)]) == 1
    assert "needs variables that were not given: topic" in capsys.readouterr().err
    assert main(["workflow", "run", str(TEMPLATE), "--var", "topic"]) == 1
    assert "--var expects KEY=VALUE" in capsys.readouterr().err
    assert (
        main(["workflow", "validate", str(TEMPLATE), "--var", "topic=x", "--tools", "nomodule"])
        == 1
    )
    assert "--tools expects MODULE:NAME" in capsys.readouterr().err
    assert (
        main(["workflow", "validate", str(TEMPLATE), "--var", "topic=x", "--tools", "os:path"]) == 1
    )
    assert "not a ToolRegistry" in capsys.readouterr().err


def test_cli_resolves_tools_from_a_registry_module(capsys, tmp_path, monkeypatch):
    (tmp_path / "wf_cli_registry_tools.py").write_text(
        "import gai\n"
        "from gai.tools import ToolRegistry\n"
        "registry = ToolRegistry()\n"
        "@registry.register\n"
        "@gai.tool\n"
        "def lookup(term: str) -> str:\n"
        "    '''Look a term up.'''\n"
        "    return term.upper()\n"
    )
    flow = tmp_path / "flow.toml"
    flow.write_text(
        'name = "f"\n[[steps]]\nname = "a"\nuser_prompt = "define {{ word }}"\ntools = ["lookup"]\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["workflow", "validate", str(flow), "--var", "word=x"]) == 1
    assert "a: lookup" in capsys.readouterr().err
    args = [
        "workflow",
        "run",
        str(flow),
        "--var",
        "word=sea",
        "--tools",
        "wf_cli_registry_tools:registry",
        "--model",
        "test",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "[a]" in out
    assert "2 steps" in out
