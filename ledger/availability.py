"""Data availability decided on chain: which of a round's updates the committee aggregates.

After the train window of an attempt, each committee member fetches, verifies and pins every
submitted update it can, then posts ``attest(task, round, held)``: a bitmap whose bit i (word
i // 256, bit i % 256) is the update with ``seq`` i. An update is **available** when the members
attesting it hold at least ``quorum`` seats of the attempt's draw. The available set is thus a
function of chain data alone (the ``Attested`` events of the attempt), and:

* every honest committee member aggregates exactly that set, so the quorum cannot split on
  what one member fetched and another timed out on;
* a participant serving its update to fewer than ``quorum`` seats' worth of members gets it
  excluded by everyone, never counted by some;
* an update counted is held by members with ``quorum`` seats, so while fewer than ``quorum``
  seats are dishonest (the quorum's own assumption) at least one honest member pinned it and
  serves it by bitswap to the members and auditors who lack it;
* a member is never slashed for an update it could not get that the quorum did not count.

    held = encode_held({0, 2}, submissions=3)            # [0b101]
    attest(market, task, round_, held, sender=member)
    book = attestations(market, task, round_, attempt)
    counted = available(book, submissions=3, quorum=2)   # frozenset of seqs
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from web3.types import TxReceipt

    from ledger.market import FedMarket
    from ledger.market_types import Update

__all__ = ["Attestation", "attest", "attestations", "available", "decode_held", "encode_held",
           "holders", "not_counted", "unavailable_reasons"]

_WORD = 256


@dataclass(frozen=True)
class Attestation:
    """One ``Attested`` event: ``member`` (holding ``seats`` seats) holds the seqs in ``held``
    (ascending)."""

    member: str
    round: int
    attempt: int
    seats: int
    held: tuple[int, ...]

    @classmethod
    def from_event(cls, args: dict[str, Any]) -> Attestation:
        """Decode an ``Attested`` event's args."""
        return cls(args["member"], int(args["round"]), int(args["attempt"]), int(args["seats"]),
                   tuple(sorted(decode_held(args["held"]))))


def encode_held(seqs: Iterable[int], submissions: int) -> list[int]:
    """The bitmap words the contract takes for ``seqs`` out of ``submissions`` updates.

    Raises:
        ValueError: a seq outside ``[0, submissions)``.
    """
    words = [0] * ((submissions + _WORD - 1) // _WORD)
    for seq in seqs:
        if not 0 <= seq < submissions:
            raise ValueError(f"update seq {seq} is not one of the round's {submissions}")
        words[seq // _WORD] |= 1 << (seq % _WORD)
    return words


def decode_held(words: Sequence[int]) -> frozenset[int]:
    """The seqs a bitmap sets."""
    return frozenset(i * _WORD + bit for i, word in enumerate(words)
                     for bit in range(_WORD) if word >> bit & 1)


def available(book: Iterable[Attestation], *, submissions: int, quorum: int) -> frozenset[int]:
    """The seqs attested by members holding at least ``quorum`` seats in total.

    One attestation per member counts (the contract refuses a second; a duplicate here is
    ignored rather than counted twice).
    """
    seats = _seats_per_update(book, submissions)
    return frozenset(seq for seq, n in enumerate(seats) if n >= quorum)


def _seats_per_update(book: Iterable[Attestation], submissions: int) -> list[int]:
    seen: set[str] = set()
    seats = [0] * submissions
    for a in book:
        if a.member.lower() in seen:
            continue
        seen.add(a.member.lower())
        for seq in a.held:
            if seq < submissions:
                seats[seq] += a.seats
    return seats


def holders(book: Iterable[Attestation], seq: int) -> list[str]:
    """The members that attested holding update ``seq`` (where to fetch it from)."""
    return [a.member for a in book if seq in a.held]


def unavailable_reasons(book: Sequence[Attestation], *, submissions: int,
                        quorum: int) -> dict[int, str]:
    """Seq -> why the update is not counted, for every update outside the available set."""
    return {seq: (f"not available on chain: committee members holding {seats} seat(s) "
                  f"attested it, {quorum} needed")
            for seq, seats in enumerate(_seats_per_update(book, submissions)) if seats < quorum}


def not_counted(market: FedMarket, task: int, round_: int, attempt: int,
                updates: Sequence[Update], quorum: int) -> dict[int, str]:
    """Seq -> reason for every update of (round, attempt) that its committee did not attest
    as held by ``quorum`` seats: what a round's computation leaves out unread."""
    book = attestations(market, task, round_, attempt)
    return unavailable_reasons(book, submissions=len(updates), quorum=quorum)


def attest(market: FedMarket, task: int, round_: int, held: Sequence[int], *,
           sender: LocalAccount) -> TxReceipt:
    """Post the sender's availability bitmap for the current attempt (attest window only).

    Raises:
        ContractCustomError: FedMarketWrongPhase, FedMarketNotInCommittee,
            FedMarketAlreadyAttested, FedMarketBadAttestation, FedMarketSeedNotLocked.
    """
    return market.contract.transact("attest", task, round_, list(held), sender=sender)


def attestations(market: FedMarket, task: int, round_: int, attempt: int,
                 from_block: int = 0) -> list[Attestation]:
    """The ``Attested`` events of (round, attempt), in chain order."""
    events = market.contract.events("Attested", from_block, task=task, round=round_)
    return [Attestation.from_event(e["args"]) for e in events
            if int(e["args"]["attempt"]) == attempt]
