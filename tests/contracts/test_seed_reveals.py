"""SeedReveals on anvil: who may reveal, when, how often; the event; every revert path."""

from __future__ import annotations

from ledger.chain.artifacts import load_artifact
from ledger.seed_reveals import SeedReveal, SeedReveals, recovery_window
from tests.contracts.market_scenario import cid_of, goto, make_env, reverts


def _setup(chain):
    env = make_env(chain, 4)
    reveals = SeedReveals.deploy(chain, env.market.address, sender=env.requester)
    state = env.market.round_state(env.task)
    goto(chain, state.attempt_start)
    return env, reveals, env.market.round_state(env.task)


def test_constructor_needs_a_contract(anvil_chain):
    eoa = anvil_chain.accounts[5].address
    with reverts("SeedRevealsNotAContract", market=eoa):
        SeedReveals.deploy(anvil_chain, eoa, sender=anvil_chain.accounts[0])


def test_submitter_reveals_once_in_the_recovery_window(anvil_chain):
    env, reveals, state = _setup(anvil_chain)
    alice, bob = env.members[0], env.members[1]
    env.market.submit_update(env.task, 1, cid_of("u-alice"), 10, sender=alice)
    env.market.submit_update(env.task, 1, cid_of("u-bob"), 10, sender=bob)
    start, end = recovery_window(state)
    # after the attest window (as long as the commit window, 50 s): the first half of commit
    assert (start, end) == (state.attest_end, state.attest_end + 25)
    assert state.attest_end == state.train_end + 50
    assert reveals.contract.call("recoveryWindow", _abi_state(state)) == [start, end]
    with reverts("SeedRevealsWindowClosed", task=env.task, round=1, attempt=0, start=start,
                 end=end):
        reveals.reveal(env.task, 1, cid_of("r-alice"), sender=alice)  # still training
    goto(anvil_chain, start)
    assert reveals.market() == env.market.address
    assert not reveals.revealed(env.task, 1, 0, alice.address)
    reveals.reveal(env.task, 1, cid_of("r-alice"), sender=alice)
    assert reveals.revealed(env.task, 1, 0, alice.address)
    assert reveals.reveals(env.task, 1) == [SeedReveal(env.task, 1, alice.address, 0,
                                                      cid_of("r-alice").digest, 0x55)]
    assert reveals.reveals(env.task, 1)[0].cid == cid_of("r-alice")
    with reverts("SeedRevealsAlreadyRevealed", task=env.task, round=1, attempt=0,
                 account=alice.address):
        reveals.reveal(env.task, 1, cid_of("r-alice-2"), sender=alice)
    carol = env.members[2]  # a member without an update in round 1
    with reverts("SeedRevealsNotSubmitter", task=env.task, round=1, account=carol.address):
        reveals.reveal(env.task, 1, cid_of("r-carol"), sender=carol)
    stranger = anvil_chain.accounts[9]
    with reverts("SeedRevealsNotSubmitter", task=env.task, round=1, account=stranger.address):
        reveals.reveal(env.task, 1, cid_of("r-x"), sender=stranger)
    goto(anvil_chain, end)
    with reverts("SeedRevealsWindowClosed", task=env.task, round=1, attempt=0, start=start,
                 end=end):
        reveals.reveal(env.task, 1, cid_of("r-bob"), sender=bob)  # second half: committee's
    assert reveals.reveals(env.task, 1, attempt=0) == reveals.reveals(env.task, 1)
    assert len(reveals.reveals(env.task, 1)) == 1


def test_wrong_round_and_zero_digest(anvil_chain):
    env, reveals, state = _setup(anvil_chain)
    alice = env.members[0]
    env.market.submit_update(env.task, 1, cid_of("u-alice"), 10, sender=alice)
    goto(anvil_chain, state.train_end)
    with reverts("SeedRevealsWrongRound", task=env.task, round=2, expected=1):
        reveals.reveal(env.task, 2, cid_of("r"), sender=alice)
    with reverts("SeedRevealsZeroDigest"):
        reveals.contract.transact("reveal", env.task, 1, bytes(32), 0x55, sender=alice)


def test_a_retry_attempt_has_its_own_window(anvil_chain):
    env, reveals, state = _setup(anvil_chain)
    alice = env.members[0]
    env.market.submit_update(env.task, 1, cid_of("u-alice"), 10, sender=alice)
    goto(anvil_chain, state.attest_end)
    reveals.reveal(env.task, 1, cid_of("r0"), sender=alice)
    # No committee vote: attempt 0 expires and attempt 1 of round 1 starts.
    goto(anvil_chain, state.reveal_end)
    retry = env.market.round_state(env.task)
    assert (retry.round, retry.attempt) == (1, 1)
    goto(anvil_chain, retry.attest_end)
    reveals.reveal(env.task, 1, cid_of("r1"), sender=alice)
    assert [(r.attempt, r.digest) for r in reveals.reveals(env.task, 1)] == [
        (0, cid_of("r0").digest), (1, cid_of("r1").digest)]
    assert [r.attempt for r in reveals.reveals(env.task, 1, attempt=1)] == [1]


def test_errors_are_prefixed_and_documented():
    artifact = load_artifact("SeedReveals")
    errors = sorted(e["name"] for e in artifact.abi if e["type"] == "error")
    assert errors == ["SeedRevealsAlreadyRevealed", "SeedRevealsNotAContract",
                      "SeedRevealsNotSubmitter", "SeedRevealsWindowClosed",
                      "SeedRevealsWrongRound", "SeedRevealsZeroDigest"]


def _abi_state(state):
    return (state.round, state.attempt, int(state.phase), state.attempt_start, state.train_end,
            state.commit_end, state.reveal_end, state.submissions, state.update_commitment,
            state.seed, state.parent.digest if state.parent else bytes(32),
            state.parent.codec if state.parent else 0, state.attest_end, state.cohort_seed)
