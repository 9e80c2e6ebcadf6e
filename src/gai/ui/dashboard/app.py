"""The `gai ui` web app: runs of any store, live, with approvals (aiohttp)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from importlib import resources
from typing import Any

from aiohttp import web

from gai.control.approval import Decision, approve, reject
from gai.errors import RunNotFoundError, UserError
from gai.store import BaseStore, RunSummary
from gai.tools import ToolRegistry
from gai.ui.dashboard._views import run_detail, run_row

__all__ = ["QueueCounts", "Resumer", "create_app"]

_log = logging.getLogger(__name__)
_STATUSES = ("running", "completed", "failed", "cancelled", "paused")
_PAGE = 50
# No inline script or style, nothing from elsewhere: a tool result that holds markup
# can neither run nor load anything, even if it were ever put in the page as HTML.
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self';"
        " img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
STORE_KEY = web.AppKey("store", BaseStore)


Resumer = Callable[[BaseStore, str, Mapping[str, Decision]], Awaitable[object]]
"""`resume(store, run_id, approvals)`: continues a paused run with the decisions given."""

QueueCounts = Callable[[], Awaitable[Mapping[str, Mapping[str, int]]]]
"""Runs per state of each durable queue (see `DurableClient.queue_counts`)."""


def create_app(
    store: BaseStore,
    *,
    token: str,
    tools: ToolRegistry | None = None,
    resume: Resumer | None = None,
    queues: QueueCounts | None = None,
    public: bool = False,
    poll_interval: float = 1.0,
) -> web.Application:
    """The dashboard over `store`.

    A decision made on the page resumes the run in this process: through `resume`
    (your function, which passes the run's tools, stop condition and options to
    `gai.resume`), or with `tools` alone for runs that need nothing else. With
    neither, decisions are refused and the page says where to make them.

    Args:
        store: The run store to show.
        token: Required (header `X-Gai-Token`) for anything that changes state; with
            `public`, for every API request.
        tools: The tools the runs use.
        resume: How to continue a paused run once a call is decided.
        queues: The durable queues' counts, shown above the runs (`gai ui --dbos`).
        public: The server listens beyond localhost: every API request needs the token.
        poll_interval: Seconds between looks at the store for live updates.
    """
    if not token:
        raise UserError("The dashboard needs a token (gai ui prints a generated one).")
    if resume is None and tools is not None:
        resume = _with_tools(tools)
    failures: dict[str, str] = {}  # why the last resume of a run from this page failed
    app = web.Application(middlewares=[_guard(token, public)])
    app[STORE_KEY] = store
    tasks: set[asyncio.Task[None]] = set()  # resumed runs, cancelled at shutdown
    closing = asyncio.Event()
    static = resources.files("gai.ui.dashboard") / "static"

    def page(name: str) -> Any:
        async def handler(request: web.Request) -> web.Response:
            body = (static / name).read_bytes()
            content_type = {
                ".html": "text/html",
                ".js": "text/javascript",
                ".css": "text/css",
            }[name[name.rfind(".") :]]
            return web.Response(body=body, content_type=content_type, charset="utf-8")

        return handler

    async def runs(request: web.Request) -> web.Response:
        query = request.query
        status = query.get("status") or None
        if status is not None and status not in _STATUSES:
            raise web.HTTPBadRequest(text=f"status must be one of {', '.join(_STATUSES)}")
        before = None
        if query.get("after_id"):
            try:
                last = await store.load_run(query["after_id"])
            except RunNotFoundError:
                raise web.HTTPBadRequest(text="after_id names no run") from None
            before = RunSummary(
                run_id=last.run_id,
                status=last.status,
                model=last.model,
                created_at=last.created_at,
                updated_at=last.updated_at,
            )
        limit = min(int(query.get("limit", _PAGE)), 500)
        found = await store.list_runs(
            status,  # type: ignore[arg-type]
            limit + 1,
            model=query.get("model") or None,
            search=query.get("q") or None,
            before=before,
            since=_moment(query.get("since")),
            until=_moment(query.get("until")),
        )
        rows = [run_row(r) for r in found[:limit]]
        return web.json_response(
            {"runs": rows, "next": rows[-1]["run_id"] if len(found) > limit else None}
        )

    async def run(request: web.Request) -> web.Response:
        try:
            record = await store.load_run(request.match_info["run_id"])
        except RunNotFoundError:
            raise web.HTTPNotFound(text="No such run in this store.") from None
        detail = run_detail(record)
        detail["can_decide"] = resume is not None
        detail["resume_error"] = failures.get(record.run_id)
        return web.json_response(detail)

    async def decide(request: web.Request) -> web.Response:
        run_id = request.match_info["run_id"]
        if resume is None:
            return web.json_response(
                {"error": "Start gai ui with --resume module:function (or --tools) to decide"
                 " approvals here; or decide in your program with gai.resume(...)."},
                status=409,
            )  # fmt: skip
        body = await request.json()
        decision = _decision(body)
        try:
            record = await store.load_run(run_id)
        except RunNotFoundError:
            raise web.HTTPNotFound(text="No such run in this store.") from None
        pending = record.result.pending_approvals if record.result is not None else ()
        if body.get("call_id") not in {c.call_id for c in pending}:
            return web.json_response(
                {"error": "That call is not waiting for a decision."}, status=409
            )
        failures.pop(run_id, None)
        task = asyncio.get_running_loop().create_task(
            _resume(resume, store, run_id, {str(body["call_id"]): decision}, failures)
        )
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return web.json_response({"resumed": run_id}, status=202)

    async def queue_counts(request: web.Request) -> web.Response:
        if queues is None:
            return web.json_response({"queues": None})
        counts = await queues()
        return web.json_response({"queues": {name: dict(c) for name, c in counts.items()}})

    async def live(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        run_id = request.query.get("run")
        seen: object = None
        # Ends when the page goes away or the server stops (it would otherwise hold
        # the shutdown until aiohttp's timeout).
        while not closing.is_set() and not (
            request.transport is None or request.transport.is_closing()
        ):
            state = await _state(store, run_id)
            if state != seen:
                seen = state
                await response.write(b"data: changed\n\n")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(closing.wait(), poll_interval)
        return response

    async def stop_tasks(_: web.Application) -> None:
        closing.set()
        for task in list(tasks):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    app.on_shutdown.append(stop_tasks)
    app.router.add_get("/", page("index.html"))
    app.router.add_get("/run/{run_id}", page("run.html"))
    app.router.add_get("/static/app.js", page("app.js"))
    app.router.add_get("/static/style.css", page("style.css"))
    app.router.add_get("/api/runs", runs)
    app.router.add_get("/api/runs/{run_id}", run)
    app.router.add_post("/api/runs/{run_id}/decisions", decide)
    app.router.add_get("/api/queues", queue_counts)
    app.router.add_get("/api/live", live)
    return app


def _guard(token: str, public: bool) -> Any:
    @web.middleware
    async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
        changes = request.method not in ("GET", "HEAD")
        if request.path.startswith("/api/") and (changes or public):
            # A custom header cannot be sent cross-site without a CORS preflight, which
            # this server never grants: a form or a script elsewhere cannot post here.
            # EventSource cannot send headers: the live stream may take ?token=.
            given = request.headers.get("X-Gai-Token") or (
                "" if changes else request.query.get("token", "")
            )
            if not hmac.compare_digest(given.encode(), token.encode()):
                raise web.HTTPForbidden(text="A valid X-Gai-Token header is required.")
        response: web.StreamResponse = await handler(request)
        response.headers.update(_SECURITY_HEADERS)
        return response

    return guard


def _moment(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise web.HTTPBadRequest(text=f"{text!r} needs a time zone, e.g. 2026-12-07T09:00Z")
    return moment


def _decision(body: Any) -> Decision:
    if not isinstance(body, dict) or body.get("verdict") not in ("approve", "reject"):
        raise web.HTTPBadRequest(text='Post {"call_id": ..., "verdict": "approve" | "reject"}.')
    if body["verdict"] == "reject":
        return reject(str(body.get("reason") or "rejected in gai ui"))
    arguments = body.get("arguments")
    try:
        return approve(arguments)
    except UserError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None


def _with_tools(tools: ToolRegistry) -> Resumer:
    async def resume(store: BaseStore, run_id: str, approvals: Mapping[str, Decision]) -> object:
        from gai.engine.resuming import resume as resume_run

        return await resume_run(run_id, store=store, tools=list(tools), approvals=approvals)

    return resume


async def _resume(
    resume: Resumer,
    store: BaseStore,
    run_id: str,
    approvals: Mapping[str, Decision],
    failures: dict[str, str],
) -> None:
    try:
        await resume(store, run_id, approvals)
    except Exception as exc:
        # A run that failed says so in its record; a resume that could not start (a
        # missing tool, stop condition or key) is shown on the run's page.
        failures[run_id] = f"{type(exc).__name__}: {exc}"
        _log.exception("Resuming run %s from gai ui failed", run_id)


async def _state(store: BaseStore, run_id: str | None) -> object:
    """What, when it changes, the open page should fetch again."""
    if run_id is None:
        runs = await store.list_runs(limit=_PAGE)
        return [(r.run_id, r.status, r.steps, r.updated_at) for r in runs]
    try:
        record = await store.load_run(run_id)
    except RunNotFoundError:
        return None
    return (record.status, record.updated_at, len(record.checkpoints))
