// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The subset of FedMarket the attacker calls.
interface IClaimTarget {
    function join(uint256 task, bytes calldata pubkey, uint96 stake) external payable;
    function claim(uint256 task, uint16 round, address account, uint256 amount, bytes32[] calldata proof) external;
    function claimRounds(
        uint256 task,
        address account,
        uint16[] calldata rounds,
        uint256[] calldata amounts,
        bytes32[][] calldata proofs
    ) external;
}

/// @title ReentrantClaimer: a member contract that tries to claim again from its receive hook
/// @notice Records the revert data of the re-entrant call so a test can check the guard fired.
contract ReentrantClaimer {
    IClaimTarget public immutable market;
    uint256 private _task;
    uint16 private _round;
    uint256 private _amount;
    bytes32[] private _proof;
    /// @notice How many times the receive hook ran.
    uint256 public received;
    /// @notice Whether a re-entrant claim succeeded (must stay false).
    bool public reentered;
    /// @notice Revert data of the re-entrant claim.
    bytes public lastError;

    constructor(IClaimTarget target) {
        market = target;
    }

    /// @notice Joins `task` paying msg.value as stake.
    function join(uint256 task, bytes calldata pubkey) external payable {
        market.join{value: msg.value}(task, pubkey, uint96(msg.value));
    }

    /// @notice Claims once; the receive hook then tries to claim the same leaf again.
    function attack(uint256 task, uint16 round, uint256 amount, bytes32[] calldata proof) external {
        _task = task;
        _round = round;
        _amount = amount;
        _proof = proof;
        market.claim(task, round, address(this), amount, proof);
    }

    /// @notice The same through a one-round batch claim; the hook re-enters `claim`.
    function attackBatch(uint256 task, uint16 round, uint256 amount, bytes32[] calldata proof) external {
        _task = task;
        _round = round;
        _amount = amount;
        _proof = proof;
        uint16[] memory rounds = new uint16[](1);
        rounds[0] = round;
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = amount;
        bytes32[][] memory proofs = new bytes32[][](1);
        proofs[0] = proof;
        market.claimRounds(task, address(this), rounds, amounts, proofs);
    }

    receive() external payable {
        received += 1;
        if (received > 1) return;
        try market.claim(_task, _round, address(this), _amount, _proof) {
            reentered = true;
        } catch (bytes memory err) {
            lastError = err;
        }
    }
}
