"""Auditing beyond the chain-only checks of ``ledger.audit``: replay, DP claims,
evaluation, and rendering the report as text, JSON and HTML.

* ``replay``: recompute every round and rewards root bit for bit.
* ``dp_claims``: each update's DP claim against the manifest and the chain.
* ``evaluation``: each round's model on evaluation rows.
* ``text``: the tree and JSON renderings.
* ``html``: the self-contained HTML page (Jinja2 template, autoescaped).
* ``model_card``: the Markdown card written beside an exported model.
"""

__all__ = ["dp_claims", "evaluation", "html", "model_card", "replay", "text", "views"]
