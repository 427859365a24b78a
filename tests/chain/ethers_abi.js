// Reference ABI encoder for tests/chain/abi_test.c: ethers v6 (independent of our C code).
// Usage: node ethers_abi.js CASES.json  — CASES is [{"types": [...], "values": [...]}, ...];
// prints one 0x-hex encoding per case, in order.
'use strict';
const fs = require('fs');
const path = require('path');
const { ethers } = require(path.resolve(process.env.BP_NODE_MODULES || 'node_modules', 'ethers'));
const cases = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const coder = ethers.AbiCoder.defaultAbiCoder();
for (const c of cases) console.log(coder.encode(c.types, c.values));
