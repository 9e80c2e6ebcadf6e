"""Durable runs on DBOS: queues, worker processes, recovery after crashes (`gai[dbos]`).

```python
from gai.durable import DurableClient

async with DurableClient("postgresql://.../gai") as client:
    await client.create_queue("agents", concurrency=20, worker_concurrency=5)
    handle = await client.submit(
        "agents", "openai:gpt-4o-mini", prompt="...", tools=["search"],
        stop_when=gai.stop.MaxSteps(8), run_id="ticket-1734",
    )
    result = await handle.result()
```

and on any number of machines: `gai worker --queue agents --db postgresql://... --tools
myapp.tools:registry`. DBOS queues each run and runs it again if its worker dies; the
run is journaled in a gai run store, so it resumes from its journal instead of calling
the model or the tools again. In a worker's own process, `await worker.run(...)` runs
a job durably without the queue.
"""

from __future__ import annotations

try:
    import dbos as _dbos  # noqa: F401
except ImportError:  # pragma: no cover - depends on the installed extras
    from gai.errors import MissingExtraError

    raise MissingExtraError("dbos", "dbos") from None

from gai.durable._workflows import registry
from gai.durable.client import DurableClient, DurableHandle, DurableState, DurableStatus
from gai.durable.spec import CallJob, RunJob, TemplateJob
from gai.durable.worker import Worker

__all__ = [
    "CallJob",
    "DurableClient",
    "DurableHandle",
    "DurableState",
    "DurableStatus",
    "RunJob",
    "TemplateJob",
    "Worker",
    "registry",
]
