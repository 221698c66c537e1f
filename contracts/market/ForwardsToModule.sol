// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Proxy} from "@openzeppelin/contracts/proxy/Proxy.sol";

/// @title ForwardsToModule: a link of FedMarket's module chain
/// @notice Selectors this contract does not know are delegatecalled (OpenZeppelin `Proxy`) to the
/// immutable `next` module, which runs them on the caller's storage and balance and forwards what
/// it does not know in turn: FedMarket -> FedMarketLifecycle -> FedMarketDisputes -> FedMarketViews.
abstract contract ForwardsToModule is Proxy {
    /// @notice The next module of the chain (fixed at deployment).
    address public immutable next;

    /// @notice A module address must hold code.
    error FedMarketNotAContract(address module);

    /// @param next_ the next module's deployment
    constructor(address next_) {
        if (next_.code.length == 0) revert FedMarketNotAContract(next_);
        next = next_;
    }

    function _implementation() internal view override returns (address) {
        return next;
    }
}
