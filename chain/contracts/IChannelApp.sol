// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title The interface every breakpoint app implements (DESIGN.md §4).
/// @notice Nodes run the app's runtime code off-chain on a private copy of its
/// storage; any external function other than these three is a move, called with
/// msg.sender = the mover. Apps must depend on nothing but their own storage.
interface IChannelApp {
    /// Called once, from the adjudicator's address, on empty storage; the
    /// resulting storage is breakpoint 0.
    function init(address[] calldata players, bytes calldata args) external;

    /// What each player gets (players order) if the channel settles in the
    /// current state; must sum to pot.
    function payouts(uint256 pot) external view returns (uint256[] memory);

    /// True once no further move is possible (the breakpoint carries isFinal).
    function isFinal() external view returns (bool);
}
