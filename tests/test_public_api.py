from __future__ import annotations

import importlib
import pickle
import subprocess
import sys

import pytest

import gai
import gai.errors


def _subclasses(cls: type) -> set[type]:
    out: set[type] = set()
    subs: list[type] = cls.__subclasses__()
    for sub in subs:
        out.add(sub)
        out |= _subclasses(sub)
    return out


def test_all_is_sorted_and_importable():
    assert gai.__all__ == sorted(gai.__all__)
    for name in gai.__all__:
        assert hasattr(gai, name), name


def test_all_names_every_public_member_and_no_more():
    # In a fresh interpreter: what other tests import would show up as attributes.
    script = (
        "import gai\n"
        "for name in gai.__all__: getattr(gai, name)\n"
        "public = [n for n in vars(gai) if not n.startswith('_') or n == '__version__']\n"
        "print(sorted(public) == sorted(gai.__all__), sorted(set(public) ^ set(gai.__all__)))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.stdout.strip() == "True []", out.stdout + out.stderr
    assert len(gai.__all__) <= 80, "gai's own namespace is for what most programs use"


@pytest.mark.parametrize(
    "package",
    ["control", "engine", "errors", "models", "observe", "providers", "resilience", "stop",
     "store", "tools", "types", "workflows", "durable", "ui", "ui.dashboard", "ui.agui"],
)  # fmt: skip
def test_each_subpackage_exports_what_it_names(package: str):
    module = importlib.import_module(f"gai.{package}")
    names = module.__all__
    for name in names:
        assert getattr(module, name) is not None, f"gai.{package}.{name}"
    # What gai re-exports is the same object as in the subpackage that owns it.
    for name in set(names) & set(gai.__all__):
        assert getattr(gai, name) is getattr(module, name), name


def test_every_error_is_exported_and_in_the_docstring_tree():
    for cls in _subclasses(gai.GaiError) | {gai.GaiError}:
        if cls.__module__ != "gai.errors":
            continue
        assert cls.__name__ in gai.errors.__all__, cls
        assert cls.__name__ in (gai.errors.__doc__ or ""), cls


def test_errors_pickle_with_their_attributes():
    errs = [
        gai.ProviderError("boom", provider="x", status=429, retryable=True, retry_after=1.5),
        gai.errors.MissingAPIKeyError("openai", "OPENAI_API_KEY"),
        gai.errors.UnknownModelError("tset:x", ["test"], ["test"]),
        gai.UserError("bad"),
    ]
    for err in errs:
        again = pickle.loads(pickle.dumps(err))
        assert type(again) is type(err)
        assert str(again) == str(err)
        assert again.__dict__ == err.__dict__


def test_missing_key_error_names_the_variable():
    err = gai.errors.MissingAPIKeyError("openai", "OPENAI_API_KEY")
    assert "set the OPENAI_API_KEY environment variable" in str(err)
    assert err.env_var == "OPENAI_API_KEY"


LOADED_ON_FIRST_USE = [
    "aiohttp",
    "difflib",
    "docstring_parser",
    "gai.control",
    "gai.engine.structured",
    "gai.resilience",
    "gai.store",
    "gai.tools.mcp",
    "gai.types.events",
    "gai.types.trace",
    "gai.workflows",
]


def test_import_gai_leaves_what_a_run_may_not_need_for_first_use():
    import subprocess
    import sys

    code = f"import sys, gai; print([m for m in {LOADED_ON_FIRST_USE!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_plain_run_loads_retry_but_no_other_wrapper():
    import subprocess
    import sys

    code = (
        "import sys, gai\n"
        "class Remote(gai.providers.BaseChatModel):\n"
        "    name = 'remote'\n"
        "    retry_by_default = True\n"
        "    async def generate(self, request):\n"
        "        return gai.ModelResponse(text='hi')\n"
        "assert gai.generate_text_sync(Remote(), prompt='x').text == 'hi'\n"
        "print(sorted(m for m in sys.modules if m.startswith(('gai.resilience', 'gai.control'))"
        " or m == 'gai.types.events'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(
        ["gai.resilience", "gai.resilience._wrapper", "gai.resilience.retry"]
    )


def test_a_lazy_module_imports_on_first_use_and_keeps_what_it_read():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from gai._lazy import lazy_module\n"
        "lazy = lazy_module('colorsys')\n"
        "print('colorsys' in sys.modules, repr(lazy))\n"
        "print(lazy.rgb_to_hsv(1, 0, 0), 'colorsys' in sys.modules, 'rgb_to_hsv' in vars(lazy))\n"
        "try:\n"
        "    lazy.nope\n"
        "except AttributeError as exc:\n"
        "    print('AttributeError', 'nope' in str(exc))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [
        "False <lazy module 'colorsys'>",
        "(0.0, 1.0, 1) True True",
        "AttributeError True",
    ]


def test_events_are_importable_from_gai_types():
    import gai.types
    from gai.types import events

    for name in ("StepStarted", "TextDelta", "RunEvent", "ToolFinished"):
        assert getattr(gai.types, name) is getattr(events, name)
    assert gai.RunEvent is events.RunEvent
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = gai.types.Nope


def test_providers_are_importable_lazily():
    import gai.providers as providers

    for name in providers.__all__:
        assert getattr(providers, name) is not None
    import pytest

    with pytest.raises(AttributeError):
        _ = providers.Nope
