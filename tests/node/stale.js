// Scenario 3, stale state: alice's node is restored from an old copy of its
// datadir (breakpoint 2) while bob is unreachable, and `bp challenge`
// registers that old breakpoint. Bob's node sees the Challenged event and
// answers with its latest (nonce 5) within the window — its first answer is
// made to fail (empty account), so it must retry — and settlement pays the
// payouts of nonce 5.
'use strict';
const fs = require('fs');
const L = require('./lib');
const { check, log } = L;

const PERIOD = 60;

async function main() {
  L.setup('stale');
  const d = await L.devnetUp();
  const { alice, bob } = await L.twoPlayers(d, '600', '600');
  const startBlock = Number(await L.rpc(d.rpc, 'eth_blockNumber')) + 1;
  const a0 = await L.balance(d, alice.address), b0 = await L.balance(d, bob.address);
  const { channel } = await L.openChannel(alice, bob, d, { deposit: '1ether', peerDeposit: '1ether', period: PERIOD });

  const game = L.GAMES.oWins.slice(0, 5); // X0 O3 X1 O4 X8: not over
  const results = [];
  for (let i = 0; i < game.length; i++) {
    if (i === 2) { // back up alice's datadir at nonce 2 (node stopped for a consistent copy)
      check('alice stops cleanly for the backup', (await alice.stop()) === 0);
      fs.cpSync(alice.dir, alice.dir + '.bak', { recursive: true });
      await alice.start();
      await L.waitFor(async () => (await alice.status(channel)).json.peerConnected, 15000);
      await L.sleep(300);
    }
    const r = await (i % 2 === 0 ? alice : bob).move(channel, game[i]);
    check(`move ${i + 1} (cell ${game[i]}) signed by both`, r.code === 0 && r.json, r.err);
    results.push(r.json);
  }
  const latest = results[results.length - 1];
  check('latest breakpoint is nonce 5, payouts 1/1 ether', latest.nonce === 5 && !latest.isFinal);

  log('# bob goes quiet (SIGSTOP); alice is restored from her backup at nonce 2');
  await bob.kill('SIGSTOP');
  await alice.kill('SIGKILL');
  fs.rmSync(alice.dir, { recursive: true, force: true });
  fs.cpSync(alice.dir + '.bak', alice.dir, { recursive: true });
  await alice.start();
  const sa = (await alice.status(channel)).json;
  check('restored alice believes nonce 2 is the latest', sa && sa.nonce === 2, JSON.stringify(sa));

  const r = await alice.cmd('challenge', ['--json', channel]);
  check('bp challenge --json answers with nonce and txHash', r.code === 0 && r.json && r.json.nonce === 2 &&
    /^0x[0-9a-f]{64}$/.test(r.json.txHash || ''), r.out + r.err);
  const ev1 = await L.events(d, 'Challenged', channel);
  check('Challenged event registers the stale nonce 2', ev1.length === 1 && Number(ev1[0].words[0]) === 2);

  // Bob's first answer must fail (his account is emptied, so the node refuses
  // the transaction); he has to try again while the window is open.
  const bobBal = await L.balance(d, bob.address);
  await L.rpc(d.rpc, 'anvil_setBalance', [bob.address, '0x0']);
  log('# bob wakes up (SIGCONT) with an empty account');
  await bob.kill('SIGCONT');
  const failed = await L.waitFor(async () => /cannot answer the challenge/.test(bob.logText()), 20000);
  check('bob\'s first answer fails (no funds)', failed, bob.tail(6));
  await L.sleep(1500);
  await L.rpc(d.rpc, 'anvil_setBalance', [bob.address, '0x' + bobBal.toString(16)]);
  log('# bob\'s balance is back; he must answer again');
  const ev = await L.waitFor(async () => {
    const e = await L.events(d, 'Challenged', channel);
    return e.length >= 2 ? e : null;
  }, 30000);
  check('a second Challenged event registers nonce 5 within the window', ev &&
    Number(ev[ev.length - 1].words[0]) === 5 && Number(ev[ev.length - 1].words[1]) === Number(ev1[0].words[1]),
    ev && JSON.stringify(ev.map((e) => e.words.map(String))));
  const blk = await L.rpc(d.rpc, 'eth_getBlockByNumber', ['latest', false]);
  check('the answer came before the deadline', Number(blk.timestamp) < Number(ev1[0].words[1]));
  const st = await L.chanState(d, channel);
  check('adjudicator: challenged at nonce 5', st.status === 3 && st.nonce === 5, JSON.stringify(st));
  check('bob logs that he answers the challenge', /answering with our latest breakpoint, nonce 5/.test(bob.logText()));
  const sa2 = await L.waitFor(async () => {
    const s = (await alice.status(channel)).json;
    return s && s.nonce === 5 ? s : null;
  }, 15000);
  check('restored alice adopts nonce 5 from bob (SYNC)', sa2, alice.tail(8));

  await L.rpc(d.rpc, 'evm_increaseTime', [PERIOD + 2]);
  await L.rpc(d.rpc, 'evm_mine', []);
  const settled = await L.waitFor(async () => {
    const e = await L.events(d, 'Settled', channel);
    return e.length ? e : null;
  }, 30000);
  check('settled at nonce 5 (exactly one Settled event)', settled && settled.length === 1 &&
    Number(settled[0].words[0]) === 5, alice.tail(5) + '\n' + bob.tail(5));

  await L.sleep(1000);
  const a1 = await L.balance(d, alice.address), b1 = await L.balance(d, bob.address);
  const ta = await L.txsFrom(d, alice.address, startBlock), tb = await L.txsFrom(d, bob.address, startBlock);
  const gasA = ta.reduce((s, t) => s + t.gasCost, 0n), gasB = tb.reduce((s, t) => s + t.gasCost, 0n);
  log(`#   alice sent ${ta.length} tx(s), bob ${tb.length}; reverted: ${[...ta, ...tb].filter((t) => t.status !== '0x1').length}`);
  const p0 = BigInt(latest.payouts[0]), p1 = BigInt(latest.payouts[1]);
  check('alice: balance change = payout(5) - deposit - gas', a1 - a0 === p0 - 10n ** 18n - gasA, `${a1 - a0}`);
  check('bob: balance change = payout(5) - deposit - gas', b1 - b0 === p1 - 10n ** 18n - gasB, `${b1 - b0}`);
  const ea = await alice.stop(), eb = await bob.stop();
  check('both nodes stop cleanly (exit 0)', ea === 0 && eb === 0, `${ea} ${eb}`);
}

main().then(L.finish, (e) => { check('no exception', false, e.stack); L.finish(); });
