// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Proxy} from "@openzeppelin/contracts/proxy/Proxy.sol";
import {Disputes} from "../market/Disputes.sol";

/// @title FedMarketDisputes: challenges, dispute votes and their resolution
/// @notice Reached through FedMarketLifecycle's fallback and run on FedMarket's storage and
/// balance (delegatecall); selectors it does not know go on to the immutable `next` module
/// (FedMarketViews). Called directly it sees no task: every function reverts.
contract FedMarketDisputes is Disputes, Proxy {
    /// @notice The next module of the chain (FedMarketViews).
    address public immutable next;

    /// @notice A module address must hold code.
    error FedMarketNotAContract(address module);

    /// @param next_ the FedMarketViews deployment
    constructor(address next_) {
        if (next_.code.length == 0) revert FedMarketNotAContract(next_);
        next = next_;
    }

    function _implementation() internal view override returns (address) {
        return next;
    }
}
