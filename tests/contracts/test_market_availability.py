"""FedMarket availability: the attest window, its rules, and the available set read from events.

Each attack is the cheapest way to make members disagree on which updates a round counts: a
stranger or an outsider posting holdings, a seat holder posting twice or for another attempt,
a bitmap naming updates that were never submitted, and a participant serving its update to
fewer than a quorum of seats.
"""

from __future__ import annotations

from ledger.availability import (
    Attestation,
    attest,
    attestations,
    available,
    encode_held,
    holders,
    unavailable_reasons,
)
from ledger.market_types import Phase
from tests.contracts.market_scenario import (
    cid_of,
    default_params,
    goto,
    lock_and_seat,
    make_env,
    quorum_of,
    reverts,
)


def _submitted(env, n):
    m = env.market
    state = m.round_state(env.task)
    goto(env.chain, state.attempt_start)
    for i in range(n):
        m.submit_update(env.task, 1, cid_of(f"u{i}"), 10 + i, sender=env.members[i])
    return m.round_state(env.task)


def test_bitmap_encoding_round_trips_across_words():
    assert encode_held({0, 2}, 3) == [0b101]
    assert encode_held(set(), 0) == []
    words = encode_held({0, 255, 256, 299}, 300)
    assert words == [1 | 1 << 255, 1 | 1 << 43]
    from ledger.availability import decode_held
    assert decode_held(words) == {0, 255, 256, 299}


def test_available_counts_seats_not_members_and_ignores_a_repeat():
    book = [Attestation("0xA", 1, 0, 2, (0, 1)),
            Attestation("0xB", 1, 0, 1, (1, 2)),
            Attestation("0xa", 1, 0, 2, (2,))]  # 0xA again: not counted twice
    assert available(book, submissions=3, quorum=2) == {0, 1}
    assert available(book, submissions=3, quorum=3) == {1}
    assert holders(book, 1) == ["0xA", "0xB"]
    assert unavailable_reasons(book, submissions=3, quorum=3) == {
        0: "not available on chain: committee members holding 2 seat(s) attested it, 3 needed",
        2: "not available on chain: committee members holding 1 seat(s) attested it, 3 needed",
    }


def test_attest_rules(anvil_chain):
    env = make_env(anvil_chain, 5)
    m, task = env.market, env.task
    state = _submitted(env, 3)
    held = encode_held({0, 1, 2}, 3)
    with reverts("FedMarketWrongPhase", phase=Phase.TRAIN):  # the set is not final yet
        attest(m, task, 1, held, sender=env.members[0])
    committee = lock_and_seat(env, to_commit=False)
    outsiders = [a for a in env.members if a not in committee]
    assert m.round_state(task).phase == Phase.ATTEST
    member = committee[0]
    with reverts("FedMarketWrongRound", round=2, expected=1):
        attest(m, task, 2, held, sender=member)
    with reverts("FedMarketBadAttestation", task=task, round=1, words=2, submissions=3):
        attest(m, task, 1, held + [0], sender=member)
    with reverts("FedMarketBadAttestation", task=task, round=1, words=1, submissions=3):
        attest(m, task, 1, [0b1001], sender=member)  # seq 3 was never submitted
    stranger = anvil_chain.accounts[9]
    with reverts("FedMarketNotMember", account=stranger.address):
        attest(m, task, 1, held, sender=stranger)
    if outsiders:
        with reverts("FedMarketNotInCommittee", round=1, attempt=0, account=outsiders[0].address):
            attest(m, task, 1, held, sender=outsiders[0])
    receipt = attest(m, task, 1, encode_held({0, 2}, 3), sender=member)
    [event] = m.events_in(receipt, "Attested")
    assert event["args"]["member"] == member.address
    assert event["args"]["seats"] == m.seats_of(task, member.address)
    assert list(event["args"]["held"]) == [0b101]
    assert m.contract.call("lastAttested", task, member.address) == [1, 0]
    with reverts("FedMarketAlreadyAttested", round=1, attempt=0, account=member.address):
        attest(m, task, 1, held, sender=member)
    goto(anvil_chain, state.attest_end)
    with reverts("FedMarketWrongPhase", phase=Phase.COMMIT):  # too late: commits may be in
        attest(m, task, 1, held, sender=committee[-1])
    [only] = attestations(m, task, 1, 0)
    assert (only.member, only.held) == (member.address, (0, 2))


def test_an_update_served_to_fewer_than_a_quorum_of_seats_is_left_out_by_everyone(anvil_chain):
    # Committee 5 of quorum 3: the submitter of update 1 serves it to members holding fewer
    # than 3 seats. Whatever the honest members saw, the chain says the same to all of them.
    env = make_env(anvil_chain, 6, default_params(committee_size=5, quorum=3, dispute_size=11))
    m, task = env.market, env.task
    _submitted(env, 3)
    committee = lock_and_seat(env, lambda h: len(quorum_of(env, h)) < len(h), to_commit=False)
    served = committee[:1] if m.seats_of(task, committee[0].address) < 3 else []
    for account in committee:
        seqs = {0, 2} | ({1} if account in served else set())
        attest(m, task, 1, encode_held(seqs, 3), sender=account)
    book = attestations(m, task, 1, 0)
    assert available(book, submissions=3, quorum=3) == {0, 2}
    assert holders(book, 1) == [a.address for a in served]
    # The second attempt's committee attests afresh: round 1 attempt 0's records do not carry.
    assert attestations(m, task, 1, 1) == []
