// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Proxy} from "@openzeppelin/contracts/proxy/Proxy.sol";
import {Settlement} from "../market/Settlement.sol";
import {TaskCreation} from "../market/TaskCreation.sol";
import {TaskEscrow} from "../market/TaskEscrow.sol";

/// @title FedMarketLifecycle: posting, cancelling and sweeping tasks; settling and slashing votes
/// @notice Reached through FedMarket's fallback and run on its storage and balance (delegatecall);
/// selectors it does not know go on to the immutable `next` module the same way. Called directly
/// it sees empty storage: a task created here would be a task of this contract alone, and every
/// other function reverts with FedMarketUnknownTask.
contract FedMarketLifecycle is TaskCreation, TaskEscrow, Settlement, Proxy {
    /// @notice The next module of the chain (FedMarketDisputes).
    address public immutable next;

    /// @notice A module address must hold code.
    error FedMarketNotAContract(address module);

    /// @param next_ the FedMarketDisputes deployment
    constructor(address next_) {
        if (next_.code.length == 0) revert FedMarketNotAContract(next_);
        next = next_;
    }

    function _implementation() internal view override returns (address) {
        return next;
    }
}
