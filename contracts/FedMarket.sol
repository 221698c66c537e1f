// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MarketViews} from "./market/MarketViews.sol";

/// @title FedMarket: the fedledger federated-learning task market
/// @notice One deployment hosts any number of tasks. Modules, one concern each:
/// TaskEscrow (create, cancel, refund), Membership (join, settle, withdraw), Rounds (submit,
/// commit, reveal, finalize), Rewards (Merkle claims), MarketViews (read-only views).
/// Types, events and errors live in IFedMarket.
contract FedMarket is MarketViews {}
