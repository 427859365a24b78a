// Reference EIP-1559 signer for tests/chain/tx_test.c: ethers v6 signs the same fields with
// the same key. Usage: node ethers_tx.js FIELDS.json — prints "serialized hash" per tx.
// FIELDS is [{"key", "chainId", "nonce", "tip", "maxFee", "gas", "to" (or null), "value", "data"}, ...].
'use strict';
const fs = require('fs');
const path = require('path');
const { ethers } = require(path.resolve(process.env.BP_NODE_MODULES || 'node_modules', 'ethers'));
for (const f of JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))) {
  const tx = ethers.Transaction.from({
    type: 2,
    chainId: BigInt(f.chainId),
    nonce: Number(f.nonce),
    maxPriorityFeePerGas: BigInt(f.tip),
    maxFeePerGas: BigInt(f.maxFee),
    gasLimit: BigInt(f.gas),
    to: f.to,
    value: BigInt(f.value),
    data: f.data,
    accessList: [],
  });
  const key = new ethers.SigningKey(f.key);
  tx.signature = key.sign(tx.unsignedHash);
  console.log(tx.serialized + ' ' + tx.hash + ' ' + tx.from);
}
