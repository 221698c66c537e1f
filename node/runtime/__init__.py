"""The participant at work: the node loop, committee work, private updates, keys.

* ``participant``: ``Participant``: join, train, submit, commit, reveal, claim, withdraw.
* ``disputes``: the v2 duties after a round finalizes (challenge, dispute votes, fee).
* ``holdings``: the availability duty (fetch, verify, pin, attest the round's updates).
* ``payouts``: claiming settled rounds' rewards, then withdrawing the stake.
* ``sampling``: drawing a round's cohort, and training only when drawn (client sampling).
* ``seed_race``: who sends a round's idempotent seed calls first (members take turns).
* ``train_ahead``: the next round's update, trained while the chain finishes this one.
* ``committee``: recomputing a round from chain data (what a committee member reveals).
* ``private_update``: DP and masking applied to a participant's update.
* ``secure_participant``: the secure-mode inputs a node reads and writes (masks, reveals).
* ``keystore``: where the signing key comes from (keystore or environment).
* ``personal_model``: the personal model a node keeps when a task ends (never uploaded).
* ``node_home``: the node's own directory (its personal model, the last round it checked).
* ``status``: a member's standing (``node status``), with what it may still claim.

Layer: wires ``learning``/``aggregation``/``privacy`` to ``ledger``.
"""

__all__ = ["committee", "disputes", "holdings", "keystore", "node_home", "participant", "payouts",
           "personal_model", "private_update", "sampling", "secure_participant",
           "seed_race", "status", "train_ahead"]
