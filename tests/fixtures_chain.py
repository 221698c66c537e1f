"""Chain fixtures (anvil process, in-process py-evm).

- ``anvil_session`` / ``pyevm_session``: one chain per test session.
- ``anvil_chain`` / ``pyevm_chain``: the session chain, snapshotted before the test and
  reverted after it, so every test starts from the same state (and the same nonces).
- ``chain``: parametrized over both backends: a test using it runs once on each.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.chain import AnvilChain, ChainBackend

GENESIS_TIMESTAMP = 1_800_000_000  # 2027-01-15: any fixed value; tests never read wall time


@pytest.fixture(scope="session")
def anvil_session() -> Iterator[AnvilChain]:
    """One anvil process for the whole session (127.0.0.1, a port anvil picks).

    Time is pinned (a fixed genesis, 1 s per block) so a test's timing does not depend on
    the machine's load and its random draws (anvil's prevrandao) repeat from run to run.
    """
    chain = AnvilChain(genesis_timestamp=GENESIS_TIMESTAMP)
    try:
        chain.pin_block_interval(1)
        yield chain
    finally:
        chain.close()


@pytest.fixture(scope="session")
def pyevm_session() -> Iterator[ChainBackend]:
    """One in-process py-evm chain for the whole session."""
    from ledger.chain.pyevm import PyEvmChain

    with PyEvmChain() as chain:
        yield chain


def _isolated(chain: ChainBackend) -> Iterator[ChainBackend]:
    snapshot = chain.snapshot()
    try:
        yield chain
    finally:
        chain.revert(snapshot)


@pytest.fixture
def anvil_chain(anvil_session: AnvilChain) -> Iterator[AnvilChain]:
    """The session anvil, reverted to its pre-test state afterwards."""
    yield from _isolated(anvil_session)


@pytest.fixture
def pyevm_chain(pyevm_session: ChainBackend) -> Iterator[ChainBackend]:
    """The session py-evm chain, reverted to its pre-test state afterwards."""
    yield from _isolated(pyevm_session)


@pytest.fixture(params=["pyevm", "anvil"])
def chain(request: pytest.FixtureRequest) -> ChainBackend:
    """Each backend in turn (the test runs once per backend)."""
    return request.getfixturevalue(f"{request.param}_chain")
