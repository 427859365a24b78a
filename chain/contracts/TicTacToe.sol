// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IChannelApp} from "./IChannelApp.sol";

/// @title Tic-tac-toe as a breakpoint app (DESIGN.md §4, docs/contracts.md).
/// @notice players[0] is X and moves first. The whole game lives in two
/// storage slots, because every node recomputes the storage root off-chain
/// after each move: slot 0 = X ‖ cells ‖ moves ‖ winner, slot 1 = O.
contract TicTacToe is IChannelApp {
    // Slot 0 (Solidity packs these in declaration order, low bits first).
    address internal playerX;
    uint24 internal cells; // 2 bits per cell, cell i at bits 2i: 0 empty, 1 X, 2 O
    uint8 internal moves;
    uint8 internal result; // 0 none, 1 X won, 2 O won, 3 draw
    // Slot 1.
    address internal playerO;

    error AlreadyInitialised();
    error BadPlayers();
    error NotInitialised();
    error GameOver();
    error NotYourTurn();
    error BadCell();
    error CellTaken();
    error BadIndex();

    // For each of the 8 lines, a 1 in the low bit of each of its three cells;
    // mark * ONES is the line filled with that mark, 3 * ONES its mask.
    uint256 internal constant LINE_ONES =
        (uint256(0x15) << 0) |      // cells 0 1 2
        (uint256(0x540) << 24) |    // cells 3 4 5
        (uint256(0x15000) << 48) |  // cells 6 7 8
        (uint256(0x1041) << 72) |   // cells 0 3 6
        (uint256(0x4104) << 96) |   // cells 1 4 7
        (uint256(0x10410) << 120) | // cells 2 5 8
        (uint256(0x10101) << 144) | // cells 0 4 8
        (uint256(0x1110) << 168);   // cells 2 4 6

    /// @inheritdoc IChannelApp
    /// @dev args are ignored. Callable once: the players never change.
    function init(address[] calldata players_, bytes calldata) external {
        if (playerX != address(0)) revert AlreadyInitialised();
        if (players_.length != 2) revert BadPlayers();
        address x = players_[0];
        address o = players_[1];
        if (x == address(0) || o == address(0) || x == o) revert BadPlayers();
        playerX = x;
        playerO = o;
    }

    /// Puts the sender's mark in `cell` (0..8, row-major).
    function play(uint8 cell) external {
        address x = playerX;
        if (x == address(0)) revert NotInitialised();
        if (result != 0) revert GameOver();
        uint8 m = moves;
        bool xToMove = m % 2 == 0;
        if (msg.sender != (xToMove ? x : playerO)) revert NotYourTurn();
        if (cell > 8) revert BadCell();
        uint256 c = cells;
        uint256 shift = 2 * uint256(cell);
        if ((c >> shift) & 3 != 0) revert CellTaken();
        uint256 mark = xToMove ? 1 : 2;
        c |= mark << shift;
        cells = uint24(c);
        moves = m + 1;
        if (wins(c, mark)) result = uint8(mark);
        else if (m + 1 == 9) result = 3;
    }

    function wins(uint256 c, uint256 mark) internal pure returns (bool) {
        for (uint256 i = 0; i < 8; i++) {
            uint256 ones = (LINE_ONES >> (24 * i)) & 0xffffff;
            if (c & (3 * ones) == mark * ones) return true;
        }
        return false;
    }

    /// 0 empty, 1 X, 2 O for each cell, row-major.
    function board() external view returns (uint8[9] memory b) {
        uint256 c = cells;
        for (uint256 i = 0; i < 9; i++) b[i] = uint8((c >> (2 * i)) & 3);
    }

    /// 0 none, 1 X, 2 O, 3 draw.
    function winner() external view returns (uint8) {
        return result;
    }

    /// players[0] (X) or players[1] (O).
    function players(uint256 i) external view returns (address) {
        if (i == 0) return playerX;
        if (i == 1) return playerO;
        revert BadIndex();
    }

    /// @inheritdoc IChannelApp
    /// @dev The winner takes the pot; a draw or an unfinished game splits it,
    /// the odd wei going to players[0].
    function payouts(uint256 pot) external view returns (uint256[] memory p) {
        p = new uint256[](2);
        uint8 r = result;
        if (r == 1) {
            p[0] = pot;
        } else if (r == 2) {
            p[1] = pot;
        } else {
            p[1] = pot / 2;
            p[0] = pot - p[1];
        }
    }

    /// @inheritdoc IChannelApp
    function isFinal() external view returns (bool) {
        return result != 0;
    }
}
