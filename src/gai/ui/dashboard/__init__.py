"""`gai ui`: a live dashboard over any run store (runs, timelines, conversations, approvals)."""

from gai.ui.dashboard.app import QueueCounts, Resumer, create_app

__all__ = ["QueueCounts", "Resumer", "create_app"]
