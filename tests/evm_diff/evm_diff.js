// Differential test of vm/ against anvil (revm): compiles Diff.sol with
// solc-js (evmVersion cancun), deploys and drives it on a fresh anvil with
// signed legacy transactions from anvil's first test key, and records per
// step the return data (eth_call on the state just before), receipt status,
// gasUsed, logs, block and the storage roots (eth_getProof storageHash) of
// the contracts. evm_diff_run then replays the same steps on a vm_world and
// compares everything; its "N passed, M failed" is the verdict.
//
// Usage: node evm_diff.js EVM_DIFF_RUN ANVIL; exit 77 = skipped.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const anvilLib = require('../lib/anvil.js');

const [runner, anvilBin] = process.argv.slice(2);
if (!runner || !anvilBin) {
  console.error('usage: evm_diff.js EVM_DIFF_RUN ANVIL');
  process.exit(2);
}
if (!fs.existsSync(anvilBin)) {
  console.log(`SKIP: anvil not found at ${anvilBin}`);
  process.exit(77);
}
let solc;
let ethers;
try {
  solc = require('solc');
  ethers = require('ethers');
} catch (e) {
  console.log(`SKIP: solc-js or ethers not installed (${e.message})`);
  process.exit(77);
}

const KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const GAS = 3000000;
const GAS_PRICE = 2000000000n;

function compile() {
  const src = fs.readFileSync(path.join(__dirname, 'Diff.sol'), 'utf8');
  const input = {
    language: 'Solidity',
    sources: { 'Diff.sol': { content: src } },
    settings: {
      evmVersion: 'cancun',
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (out.errors || []).filter((e) => e.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  return out.contracts['Diff.sol'];
}

async function main() {
  const contracts = compile();
  const main = new ethers.Interface(contracts.Main.abi);
  const url = await anvilLib.start(anvilBin, { attempts: 3 });
  const rpc = (m, p) => anvilLib.rpc(url, m, p);
  const wallet = new ethers.Wallet(KEY);
  const chainId = BigInt(await rpc('eth_chainId', []));
  const trace = { sender: wallet.address, chainId: chainId.toString(), steps: [] };
  let nonce = 0;
  let mainAddr = null;
  let childAddr = null;

  // The return data (or revert data) of a call on the latest state.
  async function ethCall(to, data, value) {
    const body = await anvilLib.rpcRaw(url, {
      jsonrpc: '2.0', id: 1, method: 'eth_call',
      params: [{ from: wallet.address, to, data, gas: ethers.toQuantity(GAS),
        value: ethers.toQuantity(value || 0n) }, 'latest'],
    });
    if (body.error) return { success: false, output: body.error.data || '0x' };
    return { success: true, output: body.result };
  }

  async function block(tag) {
    const b = await rpc('eth_getBlockByNumber', [tag, false]);
    return { number: b.number, timestamp: b.timestamp, gasLimit: b.gasLimit,
      miner: b.miner, baseFeePerGas: b.baseFeePerGas, mixHash: b.mixHash };
  }

  async function roots(tag) {
    const r = {};
    for (const a of [mainAddr, childAddr]) {
      if (a) r[a] = (await rpc('eth_getProof', [a, [], tag])).storageHash;
    }
    return r;
  }

  // Anvil's storage of the contracts (anvil_dumpState). Anvil keeps slots
  // that were set back to zero and its storageHash counts them (as rlp(0)),
  // unlike Ethereum's trie; the C side then compares the slots themselves
  // and the root over anvil's non-zero slots.
  async function storage() {
    const d = await rpc('anvil_dumpState', []);
    const j = JSON.parse(zlib.gunzipSync(Buffer.from(d.slice(2), 'hex')));
    const r = {};
    for (const a of [mainAddr, childAddr]) {
      if (!a) continue;
      const acct = j.accounts[a.toLowerCase()] || { storage: {} };
      const nonzero = {};
      let zeros = 0;
      for (const [k, v] of Object.entries(acct.storage || {})) {
        if (BigInt(v) === 0n) zeros++;
        else nonzero[k] = v;
      }
      r[a] = { slots: nonzero, zeros };
    }
    return r;
  }

  async function tx(name, to, data, opts = {}) {
    const value = opts.value || 0n;
    const gas = opts.gas || GAS;
    const step = { name, kind: 'tx', to, data, nonce, gas, value: value.toString(),
      gasPrice: GAS_PRICE.toString() };
    if (to) step.output = (await ethCall(to, data, value)).output;
    const raw = await wallet.signTransaction({ type: 0, chainId, nonce, gasPrice: GAS_PRICE,
      gasLimit: gas, to, data, value });
    nonce++;
    const hash = await rpc('eth_sendRawTransaction', [raw]);
    let rc = null;
    for (let i = 0; i < 100 && !rc; i++) {
      rc = await rpc('eth_getTransactionReceipt', [hash]);
      if (!rc) await anvilLib.sleep(20);
    }
    if (!rc) throw new Error(`${name}: no receipt`);
    step.status = Number(rc.status);
    step.gasUsed = Number(rc.gasUsed);
    step.logs = rc.logs.map((l) => ({ address: l.address, topics: l.topics, data: l.data }));
    step.block = await block(rc.blockNumber);
    if (rc.contractAddress) mainAddr = rc.contractAddress;
    step.roots = await roots(rc.blockNumber);
    step.storage = await storage();
    trace.steps.push(step);
    return step;
  }

  async function call(name, data) {
    const r = await ethCall(mainAddr, data);
    trace.steps.push({ name, kind: 'call', to: mainAddr, data, gas: GAS, success: r.success,
      output: r.output, block: await block('latest') });
    return r;
  }

  const f = (fn, args) => main.encodeFunctionData(fn, args || []);
  await tx('deploy Main', null, '0x' + contracts.Main.evm.bytecode.object);
  await tx('set 1', mainAddr, f('set', [1, 42]));
  await tx('set 1 again', mainAddr, f('set', [1, 43]));
  await tx('setMany 100..139', mainAddr, f('setMany', [100, 40]));
  await tx('clear 1 (refund)', mainAddr, f('clear', [1]));
  await tx('clearMany 100..119 (refund cap)', mainAddr, f('clearMany', [100, 20]));
  await tx('churn 120 (restore refund)', mainAddr, f('churn', [120]));
  await tx('churn 5 (zero slot)', mainAddr, f('churn', [5]));
  await tx('hashLoop', mainAddr, f('hashLoop', [ethers.toUtf8Bytes('breakpoint '.repeat(20)), 50]));
  await tx('push 7', mainAddr, f('push', [7]));
  await tx('push 8', mainAddr, f('push', [8]));
  await tx('pop', mainAddr, f('pop'));
  await tx('pop', mainAddr, f('pop'));
  await tx('pop empty (panic)', mainAddr, f('pop'));
  await tx('mustBePositive 0 (revert reason)', mainAddr, f('mustBePositive', [0]));
  await tx('mustBePositive 5000 (custom error)', mainAddr, f('mustBePositive', [5000]));
  await tx('mustBePositive 9', mainAddr, f('mustBePositive', [9]));
  const salt = ethers.id('salt');
  const dep = await tx('deployChild (CREATE2)', mainAddr, f('deployChild', [salt, 77]));
  childAddr = ethers.getAddress('0x' + dep.output.slice(26, 66));
  await tx('bumpChild', mainAddr, f('bumpChild', [5]));
  await tx('deployChild again (collision)', mainAddr, f('deployChild', [salt, 1]));
  await tx('deployChild other salt', mainAddr, f('deployChild', [ethers.id('salt2'), 3]));
  await tx('tryChildFail', mainAddr, f('tryChildFail'));
  await tx('useTransient', mainAddr, f('useTransient', [31337]));
  await tx('copy (MCOPY)', mainAddr, f('copy', [ethers.toUtf8Bytes('x'.repeat(70))]));
  await tx('deposit', mainAddr, f('deposit'), { value: 12345n });
  await tx('setMany out of gas', mainAddr, f('setMany', [1000, 30]), { gas: 120000 });
  await call('read slots(101)', f('slots', [121]));
  await call('read counter', f('counter'));
  await call('read list(0) (panic)', f('list', [0]));
  await call('readTransient (cleared)', f('readTransient'));
  await call('read child', f('child'));

  anvilLib.stop();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evm_diff-'));
  const file = path.join(dir, 'trace.json');
  fs.writeFileSync(file, JSON.stringify(trace, null, 1));
  // EVM_DIFF_KEEP=PATH keeps a copy of the trace for debugging.
  if (process.env.EVM_DIFF_KEEP) fs.copyFileSync(file, process.env.EVM_DIFF_KEEP);
  const r = spawnSync(runner, [file], { stdio: 'inherit' });
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(r.status === null ? 1 : r.status);
}

main().catch((e) => {
  console.error(e);
  anvilLib.stop();
  process.exit(1);
});
