"""`gai ui`: a live dashboard over any run store (runs, timelines, conversations, approvals)."""

from gai.ui.dashboard.app import Resumer, create_app

__all__ = ["Resumer", "create_app"]
