"""The requester's side: manifest presets and posting a task with its bounty.

* ``presets``: named manifests (shoppers, digits) and the distributed-DP schedule.
* ``post``: genesis model + manifest to the store, ``createTask`` with the bounty.
"""

__all__ = ["post", "presets"]
