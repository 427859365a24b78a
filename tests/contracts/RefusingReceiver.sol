// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// Test helper for tests/contracts: the tests put this runtime code at a
// player's address (anvil_setCode), so the player still signs with its key
// but receives ether through this code.
//   mode 0: accept ether
//   mode 1: refuse ether (revert)
//   mode 2: re-enter `target` with the stored calldata, log the outcome, accept
//   mode 3: re-enter target.withdraw(), log the outcome, accept (cheap enough
//           for a gas-capped payout)
//   mode 4: burn all the gas it gets
contract RefusingReceiver {
    uint8 public mode;
    address public target;
    bytes public data;

    event Reentered(bool ok, bytes4 selector);

    function configure(uint8 m, address t, bytes calldata d) external {
        mode = m;
        target = t;
        data = d;
    }

    // Lets a test make this address call withdraw() (a tx from an address
    // with code is not allowed, EIP-3607).
    function callWithdraw(address adjudicator) external {
        (bool ok, bytes memory ret) = adjudicator.call(abi.encodeWithSignature("withdraw()"));
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
    }

    receive() external payable {
        uint8 m = mode;
        if (m == 1) revert("refused");
        if (m == 4) {
            while (true) {}
        }
        if (m == 2 || m == 3) {
            (bool ok, bytes memory ret) = target.call(m == 2 ? data : abi.encodeWithSignature("withdraw()"));
            bytes4 sel;
            if (ret.length >= 4) sel = bytes4(ret);
            emit Reentered(ok, sel);
        }
    }
}
