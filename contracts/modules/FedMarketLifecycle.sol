// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ForwardsToModule} from "../market/ForwardsToModule.sol";
import {Settlement} from "../market/Settlement.sol";
import {TaskCreation} from "../market/TaskCreation.sol";
import {TaskEscrow} from "../market/TaskEscrow.sol";

/// @title FedMarketLifecycle: posting, cancelling and sweeping tasks; settling and slashing votes
/// @notice Reached through FedMarket's fallback and run on its storage and balance (delegatecall);
/// selectors it does not know go on to the immutable `next` module the same way. Called directly
/// it sees empty storage: a task created here would be a task of this contract alone, and every
/// other function reverts with FedMarketUnknownTask.
contract FedMarketLifecycle is TaskCreation, TaskEscrow, Settlement, ForwardsToModule {
    /// @param next_ the FedMarketDisputes deployment
    constructor(address next_) ForwardsToModule(next_) {}
}
