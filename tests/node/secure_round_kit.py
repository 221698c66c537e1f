"""One secure round built in memory, shared by the secure-round tests (no chain).

Four fixed accounts form the mask set; members 0..n-1 submit the given plain updates,
masked exactly as their nodes mask them, and member 3 drops. Files live in a dict keyed by
CID, as the store would hold them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from coincurve import PrivateKey
from eth_account import Account

from ledger.cid import Cid
from ledger.content_errors import ContentError
from ledger.manifest import TaskManifest
from ledger.market_types import TaskParams, Update
from ledger.unixfs import cid_of
from node.privacy.keys import agreement_private_key, agreement_public_key
from node.privacy.secagg import reveal_seeds
from node.runtime.committee import SecureInputs
from node.runtime.private_update import dp_secret, private_payload

TASK = 5
ROUND = 1
ACCOUNTS = [Account.from_key(bytes([i + 11]) * 32) for i in range(4)]
ADDRS = [a.address.lower() for a in ACCOUNTS]
PUBS = {a: agreement_public_key(acct) for a, acct in zip(ADDRS, ACCOUNTS)}
PARAMS = TaskParams(manifest=cid_of(b"m"), genesis=cid_of(b"g"), bounty=3 * 10**18, rounds=2,
                    max_participants=4, min_submissions=1, committee_size=3, quorum=2,
                    join_duration=1, train_duration=1, commit_duration=1, reveal_duration=1,
                    min_stake=1, slash_bps=1, committee_fee=0, max_retries=0,
                    dispute_size=3, challenge_duration=1, claim_duration=1, challenge_bond=1)


def masked_round(manifest: TaskManifest, updates: Sequence[tuple[bytes, int]], *,
                 reveal: bool = True, reveal_keys: Mapping[int, PrivateKey] | None = None,
                 ) -> tuple[list[Update], dict[Cid, bytes], SecureInputs]:
    """The round's ``UpdateSubmitted`` events, the store dict and the secure inputs.

    Survivors reveal their seeds with member 3 when ``reveal`` (with ``reveal_keys[i]``
    instead of their own key, to forge a reveal).
    """
    store: dict[Cid, bytes] = {}
    events, reveals = [], []
    for i, (data, n) in enumerate(updates):
        masked, _ = private_payload(
            manifest, data, n, task=TASK, round_index=ROUND, own=ADDRS[i],
            secret=dp_secret(bytes(ACCOUNTS[i].key)), rounds_before=0,
            agreement_key=agreement_private_key(ACCOUNTS[i]),
            peers={a: PUBS[a] for a in ADDRS if a != ADDRS[i]})
        cid = cid_of(masked)
        store[cid] = masked
        events.append(Update(ROUND, ACCOUNTS[i].address, cid.digest, cid.codec, n, i, b""))
        if reveal:
            key = (reveal_keys or {}).get(i, agreement_private_key(ACCOUNTS[i]))
            rev = reveal_seeds(key, own=ADDRS[i], dropped={ADDRS[3]: PUBS[ADDRS[3]]},
                               task=TASK, round_index=ROUND)
            store[cid_of(rev)] = rev
            reveals.append((ADDRS[i], cid_of(rev)))
    inputs = SecureInputs(task=TASK, mask_set=tuple(ADDRS), reveals=tuple(reveals))
    return events, store, inputs


def fetch_from(store: dict[Cid, bytes]) -> Callable[[Cid], bytes]:
    """A store lookup that fails like the content store does."""
    def fetch(cid: Cid) -> bytes:
        if cid not in store:
            raise ContentError(f"{cid} not found")
        return store[cid]
    return fetch
