// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ForwardsToModule} from "./market/ForwardsToModule.sol";
import {Membership} from "./market/Membership.sol";
import {Rewards} from "./market/Rewards.sol";
import {Rounds} from "./market/Rounds.sol";

/// @title FedMarket: the fedledger federated-learning task market (protocol v2)
/// @notice One deployment hosts any number of tasks and holds all their funds. This contract runs
/// the paths every round takes: Membership (join, withdraw), Rounds (submit, lock the seed,
/// commit, reveal, finalize), Rewards (Merkle claims). Any other selector falls through a chain of
/// immutable modules, each reached by delegatecall from the one before:
/// FedMarketLifecycle (create, cancel, sweep; settle votes, slash absentees) ->
/// FedMarketDisputes (challenge, dispute votes, resolution) -> FedMarketViews (read-only).
/// Modules run on this contract's storage and balance: all inherit MarketBase and declare no
/// state of their own (a test compares the compiler's storage layouts), and each piece stays well
/// under the EIP-170 code size limit. Types, events and errors live in IFedMarket.
contract FedMarket is Membership, Rounds, Rewards, ForwardsToModule {
    /// @param next_ the FedMarketLifecycle deployment
    constructor(address next_) ForwardsToModule(next_) {}
}
