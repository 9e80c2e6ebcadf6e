"""Workflows built on the run loop.

Templates (`WorkflowTemplate`) and their composition (`CompositeWorkflow`), multi-agent
runs (`Agent`, `run_sequential`, `run_with_handoffs`, `Agent.as_tool`), task trees
(`TaskTree`), state-aware tools (`StateTracker`, `ProgressReached`) and persistent
workflow state (`PersistentWorkflowManager`).
"""

from gai.workflows.agents import (
    Agent,
    AgentTurn,
    MultiAgentResult,
    run_sequential,
    run_sequential_sync,
    run_with_handoffs,
    run_with_handoffs_sync,
)
from gai.workflows.composite import CompositeResult, CompositeWorkflow, WorkflowNode
from gai.workflows.persistent import PersistentWorkflowManager
from gai.workflows.state import ProgressReached, StateTracker
from gai.workflows.tasks import Task, TaskStatus, TaskTree
from gai.workflows.template import TemplateResult, TemplateStep, WorkflowTemplate

__all__ = [
    "Agent",
    "AgentTurn",
    "CompositeResult",
    "CompositeWorkflow",
    "MultiAgentResult",
    "PersistentWorkflowManager",
    "ProgressReached",
    "StateTracker",
    "Task",
    "TaskStatus",
    "TaskTree",
    "TemplateResult",
    "TemplateStep",
    "WorkflowNode",
    "WorkflowTemplate",
    "run_sequential",
    "run_sequential_sync",
    "run_with_handoffs",
    "run_with_handoffs_sync",
]
