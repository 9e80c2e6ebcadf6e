"""Workflows built on the run loop: persistent state (templates and agents come later)."""

from gai.workflows.persistent import PersistentWorkflowManager

__all__ = ["PersistentWorkflowManager"]
