// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ForwardsToModule} from "../market/ForwardsToModule.sol";
import {Disputes} from "../market/Disputes.sol";

/// @title FedMarketDisputes: challenges, dispute votes and their resolution
/// @notice Reached through FedMarketLifecycle's fallback and run on FedMarket's storage and
/// balance (delegatecall); selectors it does not know go on to the immutable `next` module
/// (FedMarketViews). Called directly it sees no task: every function reverts.
contract FedMarketDisputes is Disputes, ForwardsToModule {
    /// @param next_ the FedMarketViews deployment
    constructor(address next_) ForwardsToModule(next_) {}
}
