from typing import Any

from tests.support.replay import StartReplay

__all__ = ["StartReplay", "standard_base64"]


def standard_base64(value: Any) -> Any:
    """Gemini's thought signatures with URL-safe base64 spelled the standard way.

    Google's client decodes a signature and encodes it again URL-safe; the API takes
    either spelling, and gai sends back the one it was given.
    """
    if isinstance(value, list):
        return [standard_base64(v) for v in value]
    if isinstance(value, dict):
        return {
            k: v.replace("-", "+").replace("_", "/")
            if k == "thoughtSignature"
            else standard_base64(v)
            for k, v in value.items()
        }
    return value
