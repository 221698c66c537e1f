"""The explorer's web app (Starlette): pages, a JSON API and a server-sent event stream.

Routes:

* ``/``, ``/task/{id}``, ``/task/{id}/model/{cid}``: HTML pages (server-rendered with the
  audit page's templates). With the header ``X-Fragment: 1`` only the page's ``<main>`` is
  sent: the page's script swaps it in when the stream says the chain moved.
* ``/api/tasks``, ``/api/task/{id}``: the same data as JSON (amounts exact, in wei).
* ``/events``: ``text/event-stream``; one ``change`` event (``{"version", "block"}``) per new
  snapshot, a comment line every 15 s to keep proxies from closing it.
* ``/static/...``: the script and style sheet, served from the package (no CDN).

Read-only by construction: the app holds no key and sends no transaction.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from functools import cache
from typing import Any

import anyio
import jinja2
from markupsafe import Markup, escape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from node.explorer.pages import PageNotFound, model_page, task_page, tasks_page
from node.explorer.watcher import ChainWatcher

__all__ = ["create_app"]

_KEEPALIVE_SECONDS = 15.0
_STREAM_TICK_SECONDS = 0.25


@cache
def _templates() -> jinja2.Environment:
    # The explorer's own templates first, then the audit page's partials they include.
    # Autoescaping: every name, CID and detail comes from the chain or the store.
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.PackageLoader("node.explorer", "templates"),
                                    jinja2.PackageLoader("node.audit", "templates")]),
        autoescape=True, undefined=jinja2.StrictUndefined)


def _render(request: Request, template: str, context: dict[str, Any]) -> HTMLResponse:
    env = _templates()
    main = env.get_template(template).render(context)
    if request.headers.get("x-fragment") == "1":
        return HTMLResponse(main)
    # `main` is this app's own autoescaped output: safe to place as markup.
    return HTMLResponse(env.get_template("base.html.j2").render(context, main=Markup(main)))


def create_app(watcher: ChainWatcher, *, eval_source: str | None = None) -> Starlette:
    """The app over ``watcher``'s snapshots (the caller starts and stops the watcher)."""

    def tasks(request: Request) -> Response:
        return _render(request, "tasks.html.j2", tasks_page(watcher.snapshot))

    def task(request: Request) -> Response:
        context = task_page(watcher.snapshot, request.path_params["task"],
                            eval_source=eval_source)
        return _render(request, "task.html.j2", context)

    def model(request: Request) -> Response:
        context = model_page(watcher.snapshot, request.path_params["task"],
                             request.path_params["cid"])
        return _render(request, "model.html.j2", context)

    def api_tasks(request: Request) -> Response:
        snap = watcher.snapshot
        return JSONResponse({"block": snap.block, "error": snap.error,
                             "tasks": [t.listing.to_dict() for t in snap.tasks.values()]})

    def api_task(request: Request) -> Response:
        snap, number = watcher.snapshot, request.path_params["task"]
        if number not in snap.tasks:
            raise PageNotFound(f"no task {number} on this deployment (block {snap.block})")
        return JSONResponse({"block": snap.block, **snap.tasks[number].to_dict()})

    async def events(request: Request) -> Response:
        async def stream() -> AsyncIterator[str]:
            seen, quiet = -1, 0.0
            while not watcher.stopped and not await request.is_disconnected():
                snap = watcher.snapshot
                if snap.version != seen:
                    seen, quiet = snap.version, 0.0
                    data = json.dumps({"version": snap.version, "block": snap.block,
                                       "error": snap.error})
                    yield f"event: change\ndata: {data}\n\n"
                elif quiet >= _KEEPALIVE_SECONDS:
                    quiet = 0.0
                    yield ": keepalive\n\n"
                await anyio.sleep(_STREAM_TICK_SECONDS)
                quiet += _STREAM_TICK_SECONDS

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    async def not_found(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc)}, status_code=404)
        return HTMLResponse(f"<!DOCTYPE html><title>not found</title><p>{escape(str(exc))}"
                            "</p><p><a href=\"/\">all tasks</a></p>", status_code=404)

    routes = [
        Route("/", tasks),
        Route("/task/{task:int}", task),
        Route("/task/{task:int}/model/{cid:str}", model),
        Route("/api/tasks", api_tasks),
        Route("/api/task/{task:int}", api_task),
        Route("/events", events),
        Mount("/static", StaticFiles(packages=[("node.explorer", "static")]), name="static"),
    ]
    return Starlette(routes=routes, exception_handlers={PageNotFound: not_found})
