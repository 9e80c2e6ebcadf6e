"""Check at submission that what a durable run carries can be rebuilt in a worker."""

from __future__ import annotations

import io
import pickle
import types
from typing import Any

from gai.errors import NotPortableError

__all__ = ["ensure_portable"]

_BY_REFERENCE = (types.FunctionType, types.BuiltinFunctionType, type, types.MethodType)


class _Pickler(pickle.Pickler):
    # Pickle stores functions and classes by module path; one from `__main__` would
    # resolve to something else (or nothing) in a worker process.
    def persistent_id(self, obj: Any) -> None:
        if isinstance(obj, _BY_REFERENCE) and getattr(obj, "__module__", None) == "__main__":
            raise NotPortableError(
                f"{_describe(obj)} is defined in __main__, which a worker process cannot "
                f"import. Move it to a module the workers can import."
            )
        return None


def _describe(obj: Any) -> str:
    name = getattr(obj, "__qualname__", None) or type(obj).__name__
    return f"{type(obj).__name__} {name!r}"


def ensure_portable(what: str, value: Any) -> bytes:
    """Pickle `value` as a worker would need it, or say why it cannot travel.

    Args:
        what: The option's name, for the message (e.g. "stop_when").
        value: The object to send.

    Raises:
        NotPortableError: It is (or holds) a lambda, a closure, a function or class from
            `__main__`, or something else pickle cannot carry.
    """
    buffer = io.BytesIO()
    try:
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    except NotPortableError as exc:
        raise NotPortableError(f"{what}: {exc.message}") from None
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        raise NotPortableError(
            f"{what} cannot be sent to a worker process ({exc}). Lambdas, closures and "
            f"objects holding open resources cannot cross processes: use a built-in stop "
            f"condition or a function defined at the top level of an importable module."
        ) from None
    data = buffer.getvalue()
    try:
        pickle.loads(data)
    except Exception as exc:
        raise NotPortableError(
            f"{what} pickles but cannot be rebuilt ({type(exc).__name__}: {exc}); "
            f"a worker could not run it."
        ) from None
    return data
