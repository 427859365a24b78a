// Cross-checks vm/'s Breakpoint EIP-712 digest and signature against anvil's
// eth_signTypedData_v4 (and the digest against ethers' TypedDataEncoder).
// Usage: node anvil_sign_test.js ANVIL BREAKPOINT_SIGN NODE_MODULES
// Starts anvil on a free 127.0.0.1 port and kills it (by PID) on every exit.
'use strict';
const { execFileSync } = require('child_process');
const path = require('path');
const anvilLib = require('../lib/anvil.js');
const { rpc } = anvilLib;

const [anvilPath, signPath, nodeModules] = process.argv.slice(2);
if (!anvilPath || !signPath || !nodeModules) {
  console.error('usage: anvil_sign_test.js ANVIL BREAKPOINT_SIGN NODE_MODULES');
  process.exit(2);
}
const fs = require('fs');
if (!fs.existsSync(anvilPath)) {
  console.log(`SKIP: anvil not found at ${anvilPath} (run scripts/setup)`);
  process.exit(77);
}
if (!fs.existsSync(path.resolve(nodeModules, 'ethers'))) {
  console.log(`SKIP: ethers not installed in ${nodeModules} (run scripts/setup)`);
  process.exit(77);
}
const { ethers } = require(path.resolve(nodeModules, 'ethers'));

// anvil's account 0 (well known; unlocked in anvil).
const KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const ACCOUNT0 = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';

// anvil on 127.0.0.1, pinned chain id; ready once it reports that chain id.
function startAnvil() {
  return anvilLib.start(anvilPath, {
    args: ['--chain-id', '31337', '--silent'],
    attempts: 3,
    ready: async (url) => BigInt(await rpc(url, 'eth_chainId', [])) === 31337n,
  });
}

const types = require('../lib/eip712.js').TYPED_DATA_TYPES;

// Fixed breakpoints: ordinary values, and the extremes of each field.
const cases = [
  {
    adjudicator: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    channelId: ethers.keccak256(ethers.toUtf8Bytes('breakpoint channel 1')),
    nonce: '3',
    stateRoot: '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421',
    moveHash: ethers.keccak256(ethers.toUtf8Bytes('play(4)')),
    payouts: ['1000000000000000000', '3000000000000000000'],
    isFinal: false,
  },
  {
    adjudicator: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512',
    channelId: '0x' + 'ff'.repeat(32),
    nonce: '18446744073709551615', // uint64 max
    stateRoot: '0x' + '00'.repeat(31) + '01',
    moveHash: '0x' + '00'.repeat(32),
    payouts: [(2n ** 256n - 1n).toString(), '0'],
    isFinal: true,
  },
];

async function main() {
  const url = await startAnvil();
  const accounts = await rpc(url, 'eth_accounts', []);
  if (accounts[0].toLowerCase() !== ACCOUNT0.toLowerCase()) {
    throw new Error(`anvil account 0 is ${accounts[0]}, expected ${ACCOUNT0}`);
  }
  let failures = 0;
  for (const [i, c] of cases.entries()) {
    const domain = { name: 'breakpoint', version: '1', chainId: 31337, verifyingContract: c.adjudicator };
    const message = {
      channelId: c.channelId, nonce: c.nonce, stateRoot: c.stateRoot, moveHash: c.moveHash,
      payouts: c.payouts, isFinal: c.isFinal,
    };
    const typed = { types, primaryType: 'Breakpoint', domain, message };
    const anvilSig = await rpc(url, 'eth_signTypedData_v4', [ACCOUNT0, typed]);

    const out = execFileSync(signPath, [KEY, '31337', c.adjudicator, c.channelId, c.nonce,
      c.stateRoot, c.moveHash, c.payouts[0], c.payouts[1], c.isFinal ? '1' : '0'], { encoding: 'utf8' });
    const ours = Object.fromEntries(out.trim().split('\n').map((l) => l.split(' ')));

    const { EIP712Domain, ...structTypes } = types;
    const want = {
      domain: ethers.TypedDataEncoder.hashDomain(domain),
      struct: ethers.TypedDataEncoder.from(structTypes).hash(message),
      digest: ethers.TypedDataEncoder.hash(domain, structTypes, message),
      signer: ACCOUNT0,
      signature: anvilSig.toLowerCase(),
    };
    // The digest anvil signed is the one whose signature recovers to account 0.
    const anvilSigner = ethers.recoverAddress(ours.digest, anvilSig);
    if (anvilSigner !== ACCOUNT0) {
      console.log(`case ${i}: anvil's signature does not recover to account 0 over our digest (got ${anvilSigner})`);
      failures++;
    }
    for (const k of Object.keys(want)) {
      if (ours[k] !== want[k]) {
        console.log(`case ${i}: ${k}: ours ${ours[k]}, reference ${want[k]}`);
        failures++;
      }
    }
    console.log(`case ${i}: digest ${ours.digest} signature ${ours.signature.slice(0, 18)}… ${failures ? '' : 'match'}`);
  }
  if (failures) {
    console.log(`${failures} mismatch(es)`);
    process.exitCode = 1;
  } else {
    console.log('breakpoint digest and signature match anvil eth_signTypedData_v4');
  }
}

main().then(anvilLib.stop, (e) => { console.error(e.message || e); anvilLib.stop(); process.exitCode = 1; });
