// Concurrent proposals: with a non-turn-based app (a test-only counter that
// either player may bump at any time, compiled here with the pinned solc-js)
// both players call `bp move` at the same moment, again and again. Every move
// must land exactly once (no deadlock, no lost or doubled move), nonces only
// increase, and afterwards neither store holds two different signatures of
// one player at one nonce. The channel then ends with `bp close`.
'use strict';
const path = require('path');
const L = require('./lib');
const { check, log } = L;
const { ethers } = require(path.join(L.ROOT, 'node_modules', 'ethers'));

const ROUNDS = 12;
const SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.0;
contract Counter {
    address[2] public players;
    uint256 public count;
    uint256[2] public per;
    bool private inited;
    function init(address[] calldata p, bytes calldata) external {
        require(!inited && p.length == 2, "init");
        inited = true;
        players[0] = p[0];
        players[1] = p[1];
    }
    function bump() external {
        require(inited, "not initialised");
        if (msg.sender == players[0]) per[0]++;
        else if (msg.sender == players[1]) per[1]++;
        else revert("not a player");
        count++;
    }
    function payouts(uint256 pot) external pure returns (uint256[] memory r) {
        r = new uint256[](2);
        r[0] = pot - pot / 2;
        r[1] = pot / 2;
    }
    function isFinal() external pure returns (bool) { return false; }
}
`;

function compile() {
  const solc = require(path.join(L.ROOT, 'node_modules', 'solc'));
  const input = { language: 'Solidity', sources: { 'Counter.sol': { content: SOURCE } },
    settings: { evmVersion: 'cancun', optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['evm.bytecode.object'] } } } };
  const out = JSON.parse(solc.compile(JSON.stringify(input)));
  const errs = (out.errors || []).filter((e) => e.severity === 'error');
  if (errs.length) throw new Error(errs.map((e) => e.formattedMessage).join('\n'));
  return out.contracts['Counter.sol'].Counter.evm.bytecode.object;
}

async function main() {
  const tmp = L.setup('concurrent');
  const code = compile();
  const d = await L.devnetUp();
  const kf = path.join(tmp, 'deployer.key');
  require('fs').writeFileSync(kf, d.accounts[0].key + '\n', { mode: 0o600 });
  const dep = await L.bp(['deploy', '--eth', d.rpc, '--key-file', kf, '--code', '0x' + code]);
  const app = dep.out.trim();
  check('deployed the test-only Counter app', /^0x[0-9a-fA-F]{40}$/.test(app), dep.err);

  const { alice, bob } = await L.twoPlayers(d, '600', '600');
  d.tictactoe = app; // openChannel uses d.tictactoe as the app
  const { channel } = await L.openChannel(alice, bob, d, { deposit: '1000gwei', peerDeposit: '1000gwei' });

  const bump = (p) => p.cmd('move', ['--json', '--timeout', '30', channel, 'bump()']);
  const nonces = [];
  let ok = 0;
  const t0 = Date.now();
  for (let r = 0; r < ROUNDS; r++) {
    const [ra, rb] = await Promise.all([bump(alice), bump(bob)]);
    for (const x of [ra, rb]) {
      if (x.code === 0 && x.json) { ok++; nonces.push(x.json.nonce); } else log(`#   round ${r + 1}: ${x.err.trim()}`);
    }
  }
  log(`#   ${2 * ROUNDS} simultaneous moves in ${((Date.now() - t0) / 1000).toFixed(1)} s, nonces ${nonces.join(',')}`);
  check(`every simultaneous move was signed by both (${ok}/${2 * ROUNDS})`, ok === 2 * ROUNDS);
  check('no two moves got the same nonce', new Set(nonces).size === nonces.length);
  const concurrentSeen = /concurrent proposal/.test(alice.logText() + bob.logText());
  log(`#   collisions at one nonce happened: ${concurrentSeen ? 'yes' : 'no'}`);
  const cnt = await alice.cmd('call', ['--json', channel, 'count()(uint256)']);
  const pa = await bob.cmd('call', ['--json', channel, 'per(uint256)(uint256)', '0']);
  const pb = await bob.cmd('call', ['--json', channel, 'per(uint256)(uint256)', '1']);
  check(`count() = ${2 * ROUNDS}, per player ${ROUNDS} (each move applied exactly once)`,
    cnt.json && Number(cnt.json.values[0]) === 2 * ROUNDS && Number(pa.json.values[0]) === ROUNDS &&
    Number(pb.json.values[0]) === ROUNDS, cnt.out + pa.out + pb.out);
  const sa = (await alice.status(channel)).json, sb = (await bob.status(channel)).json;
  check('both nodes hold the same latest breakpoint', sa.nonce === sb.nonce && sa.stateRoot === sb.stateRoot &&
    sa.nonce === Math.max(...nonces), `${sa.nonce} ${sb.nonce}`);

  const cl = await alice.cmd('close', ['--json', channel]);
  check('bp close ends the channel with a final breakpoint', cl.code === 0 && cl.json && cl.json.isFinal === true, cl.err);
  const conc = await L.waitFor(async () => {
    const e = await L.events(d, 'Concluded', channel);
    return e.length ? e : null;
  }, 30000);
  check('concluded on-chain at the close nonce', conc && Number(conc[0].words[0]) === cl.json.nonce);

  check('both nodes stop cleanly (exit 0)', (await alice.stop()) === 0 && (await bob.stop()) === 0);
  const dumps = [];
  for (const p of [alice, bob]) dumps.push((await L.bp(['debug', 'dump', '--datadir', p.dir])).json);
  const bad = [];
  let n = 0;
  for (const [pi, p] of [alice, bob].entries()) {
    const seen = new Map();
    for (const [qi, dmp] of dumps.entries()) {
      const c = dmp.channels.find((x) => x.channel === channel);
      const entries = c.breakpoints.filter((b) => b.sigs[pi]).map((b) => ({ nonce: b.nonce, digest: b.digest, sig: b.sigs[pi] }));
      if (qi === pi) for (const o of c.ownSigs) entries.push(o);
      for (const e of entries) {
        n++;
        if (ethers.recoverAddress(e.digest, e.sig).toLowerCase() !== p.address.toLowerCase()) bad.push(`bad sig at ${e.nonce}`);
        if (seen.has(e.nonce) && seen.get(e.nonce) !== e.digest) bad.push(`${p.name} signed nonce ${e.nonce} twice`);
        seen.set(e.nonce, e.digest);
      }
    }
  }
  check(`no nonce signed twice with different content (${n} signatures checked)`, bad.length === 0 && n > 2 * ROUNDS,
    bad.slice(0, 5).join('; '));
}

main().then(L.finish, (e) => { check('no exception', false, e.stack); L.finish(); });
