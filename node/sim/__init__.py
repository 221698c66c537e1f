"""The in-process simulator and the misbehaviour it can play: the reference a chain
run is held to, and robustness experiments. Nothing outside ``sim`` (but the CLI) imports
it.

* ``simulate``: every round of a task in one process, through the nodes' own code.
* ``setup``: how the pooled data is split and who attacks.
* ``attacks``: sign-flip and label-flip attacks.
* ``faulty_updates``: deliberately bad uploads (``node run --misbehave``).
"""

__all__ = ["attacks", "faulty_updates", "setup", "simulate"]
