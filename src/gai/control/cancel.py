"""`StopToken`: ask a run to stop at its next step boundary, with nothing half-done."""

from __future__ import annotations

import threading

__all__ = ["StopToken"]


class StopToken:
    """Pass as `generate_text(stop_token=...)`; call `request()` from anywhere.

    The run stops before starting another step, and also before running the tools of
    a model answer that arrived after the request, so no new tool side effects happen.
    With a run store the run is recorded as cancelled and `gai.resume` can continue it.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def request(self, reason: str = "stop requested") -> None:
        """Ask the run to stop at the next step boundary (thread-safe)."""
        self.reason = reason
        self._event.set()

    @property
    def requested(self) -> bool:
        """Whether a stop was requested."""
        return self._event.is_set()
