// The Breakpoint EIP-712 types (DESIGN.md), as the JS tests hand them to
// ethers (struct types only) and to anvil's eth_signTypedData_v4 (with the
// domain type). CommonJS: used from .js (require) and .mjs (import) tests.
'use strict';

const BREAKPOINT_TYPES = {
  Breakpoint: [
    { name: 'channelId', type: 'bytes32' },
    { name: 'nonce', type: 'uint64' },
    { name: 'stateRoot', type: 'bytes32' },
    { name: 'moveHash', type: 'bytes32' },
    { name: 'payouts', type: 'uint256[]' },
    { name: 'isFinal', type: 'bool' },
  ],
};

const TYPED_DATA_TYPES = {
  EIP712Domain: [
    { name: 'name', type: 'string' },
    { name: 'version', type: 'string' },
    { name: 'chainId', type: 'uint256' },
    { name: 'verifyingContract', type: 'address' },
  ],
  ...BREAKPOINT_TYPES,
};

module.exports = { BREAKPOINT_TYPES, TYPED_DATA_TYPES };
