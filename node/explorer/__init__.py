"""The live explorer: a local, read-only web app over the chain and the store.

Rooms: ``snapshot`` (what is shown, read at one block), ``watcher`` (a new snapshot per
block), ``pages`` (template contexts), ``app`` (Starlette routes, JSON API, event stream),
``server`` (uvicorn in a thread, start/stop). Templates are shared with ``audit --html``.
"""

__all__ = ["app", "pages", "server", "snapshot", "watcher"]
