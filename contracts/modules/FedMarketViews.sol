// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MarketViews} from "../market/MarketViews.sol";

/// @title FedMarketViews: FedMarket's read-only views, reached through its modules' fallbacks
/// @notice Runs on FedMarket's storage (delegatecall); called directly it sees no task.
contract FedMarketViews is MarketViews {}
