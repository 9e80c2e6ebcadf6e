"""Run control: budgets, loop guards, human approval and stopping at a step boundary."""

from gai.control.approval import Decision, answer, approve, reject
from gai.control.budget import Budget, BudgetUse, resident_memory_mb
from gai.control.cancel import StopToken
from gai.control.continuation import ContinueWhen
from gai.control.guards import Guard, LoopDetector, PingPong, RepeatedCall, StagnantResults

__all__ = [
    "Budget",
    "BudgetUse",
    "ContinueWhen",
    "Decision",
    "Guard",
    "LoopDetector",
    "PingPong",
    "RepeatedCall",
    "StagnantResults",
    "StopToken",
    "answer",
    "approve",
    "reject",
    "resident_memory_mb",
]
