// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title RevertProbe
/// @notice Test-only contract: every way a call can fail, so the Python client's error
///         decoding is checked against real EVM output on every backend. Never deployed
///         outside tests.
contract RevertProbe {
    /// @notice Raised by `failWithValue`: carries a number and an address.
    /// @param x the number passed in
    /// @param who the caller
    error RevertProbeTooLarge(uint256 x, address who);

    /// @notice Raised by `failWithMany`: several types at once, including dynamic ones.
    /// @param id an identifier
    /// @param digest a 32-byte value
    /// @param flag a boolean
    /// @param note a string
    error RevertProbeMixed(uint64 id, bytes32 digest, bool flag, string note);

    /// @notice Raised by `failEmpty`: a custom error with no arguments.
    error RevertProbeEmpty();

    /// @notice Emitted by `setValue` after the value changed.
    /// @param setter who set it
    /// @param oldValue the previous value
    /// @param newValue the new value
    event ValueSet(address indexed setter, uint256 oldValue, uint256 newValue);

    /// @notice Emitted by `deposit` after ether was received.
    /// @param from the sender
    /// @param amount wei received
    event Deposited(address indexed from, uint256 amount);

    uint256 private _value;
    uint256 private _limit;

    /// @param limit_ the largest value `setValue` accepts
    constructor(uint256 limit_) {
        _limit = limit_;
    }

    /// @notice Stores `newValue`; reverts with RevertProbeTooLarge above the limit.
    /// @param newValue the value to store
    function setValue(uint256 newValue) external {
        if (newValue > _limit) revert RevertProbeTooLarge(newValue, msg.sender);
        uint256 old = _value;
        _value = newValue;
        emit ValueSet(msg.sender, old, newValue);
    }

    /// @notice The stored value.
    function value() external view returns (uint256) {
        return _value;
    }

    /// @notice The limit set at construction.
    function limit() external view returns (uint256) {
        return _limit;
    }

    /// @notice Always reverts with RevertProbeTooLarge(x, msg.sender).
    /// @param x the number carried by the error
    function failWithValue(uint256 x) external view {
        revert RevertProbeTooLarge(x, msg.sender);
    }

    /// @notice Always reverts with RevertProbeMixed.
    function failWithMany(uint64 id, bytes32 digest, bool flag, string calldata note) external pure {
        revert RevertProbeMixed(id, digest, flag, note);
    }

    /// @notice Always reverts with RevertProbeEmpty.
    function failEmpty() external pure {
        revert RevertProbeEmpty();
    }

    /// @notice Reverts with Error(string) when `ok` is false.
    /// @param ok whether to pass
    function requireTrue(bool ok) external pure {
        require(ok, "RevertProbe: not ok");
    }

    /// @notice Panics with code 0x01 (assert) when `ok` is false.
    /// @param ok whether to pass
    function assertTrue(bool ok) external pure {
        assert(ok);
    }

    /// @notice Panics with code 0x12 (division by zero) when `d` is zero.
    /// @param n numerator
    /// @param d denominator
    function divide(uint256 n, uint256 d) external pure returns (uint256) {
        return n / d;
    }

    /// @notice Reverts with no data at all.
    function failBare() external pure {
        revert();
    }

    /// @notice Accepts ether; reverts with RevertProbeTooLarge when more than the limit.
    function deposit() external payable {
        if (msg.value > _limit) revert RevertProbeTooLarge(msg.value, msg.sender);
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Changes state, then reverts when `fail` is true. Gas estimation with
    ///         `fail` false succeeds, so a transaction sent with `fail` true mines and fails.
    /// @param fail whether to revert after the write
    function setThenMaybeFail(uint256 newValue, bool fail) external {
        _value = newValue;
        if (fail) revert RevertProbeTooLarge(newValue, msg.sender);
    }

    /// @notice Reverts when the current block timestamp is before `deadline`: lets a test
    ///         make estimation pass and execution fail by changing the chain in between.
    /// @param deadline the earliest timestamp at which the call succeeds
    function failBefore(uint256 deadline) external {
        if (block.timestamp < deadline) revert RevertProbeTooLarge(deadline, msg.sender);
        _value = deadline;
    }
}
