// Scenario 2, silent peer: bob's node stops answering (SIGSTOP) mid-game;
// alice's node challenges after --peer-timeout with the latest breakpoint,
// time moves past the challenge period (evm_increaseTime), alice's node
// settles, and both balances match the payouts of the last breakpoint.
'use strict';
const L = require('./lib');
const { check, log } = L;

const ETH = 10n ** 18n;
const PERIOD = 40;

async function main() {
  L.setup('silent');
  const d = await L.devnetUp();
  const { alice, bob } = await L.twoPlayers(d, '3', '600');
  const startBlock = Number(await L.rpc(d.rpc, 'eth_blockNumber')) + 1;
  const a0 = await L.balance(d, alice.address), b0 = await L.balance(d, bob.address);

  const { channel } = await L.openChannel(alice, bob, d, { deposit: '1ether', peerDeposit: '1ether', period: PERIOD });
  const game = L.GAMES.xWins.slice(0, 3);
  let last = null;
  for (let i = 0; i < game.length; i++) {
    const r = await (i % 2 === 0 ? alice : bob).move(channel, game[i]);
    check(`move ${i + 1} (cell ${game[i]}) signed by both`, r.code === 0 && r.json, r.err);
    last = r.json;
  }
  await L.sleep(4500); // > peer timeout while both are alive: no spurious challenge
  check('no challenge while both nodes are alive', (await L.events(d, 'Challenged', channel)).length === 0);

  log('# stopping bob (SIGSTOP)');
  const stoppedAt = Date.now();
  await bob.kill('SIGSTOP');
  const ch = await L.waitFor(async () => {
    const e = await L.events(d, 'Challenged', channel);
    return e.length ? e : null;
  }, 30000);
  const took = (Date.now() - stoppedAt) / 1000;
  // bob's last PING answer came up to a quarter timeout before the SIGSTOP
  check(`alice challenged after the peer timeout (${took.toFixed(1)} s after SIGSTOP)`, ch && took >= 2 && took < 20);
  check(`the challenge registers the latest breakpoint (nonce ${last.nonce})`,
    ch && ch.length === 1 && Number(ch[0].words[0]) === last.nonce, ch && JSON.stringify(ch[0].words.map(String)));
  const m = /silent for (\d+) s, challenging with nonce 3/.exec(alice.logText());
  check('alice logs why she challenges (silent for >= 3 s)', m && Number(m[1]) >= 3, m && m[0]);
  const st = await L.chanState(d, channel);
  check('adjudicator: challenged (status 3) at nonce 3', st.status === 3 && st.nonce === 3, JSON.stringify(st));
  const sa = await L.waitFor(async () => {
    const x = (await alice.status(channel)).json;
    return x && x.state === 'challenged' ? x : null;
  }, 10000);
  check('alice reports state challenged', sa);

  // no settlement before the deadline
  await L.sleep(1500);
  check('not settled before the deadline', (await L.events(d, 'Settled', channel)).length === 0);

  const blk = await L.rpc(d.rpc, 'eth_getBlockByNumber', ['latest', false]);
  const gap = st.deadline - Number(blk.timestamp) + 2;
  log(`# evm_increaseTime ${gap} s + evm_mine`);
  await L.rpc(d.rpc, 'evm_increaseTime', [gap]);
  await L.rpc(d.rpc, 'evm_mine', []);
  const settled = await L.waitFor(async () => {
    const e = await L.events(d, 'Settled', channel);
    return e.length ? e : null;
  }, 30000);
  check('alice settled after the deadline (Settled event, nonce 3)', settled && settled.length === 1 &&
    Number(settled[0].words[0]) === 3, alice.tail(5));
  await L.waitFor(async () => (await alice.status(channel)).json.state === 'settled', 10000);
  check('alice reports state settled', (await alice.status(channel)).json.state === 'settled');
  check('adjudicator: closed (status 4)', (await L.chanState(d, channel)).status === 4);

  const a1 = await L.balance(d, alice.address), b1 = await L.balance(d, bob.address);
  const ta = await L.txsFrom(d, alice.address, startBlock), tb = await L.txsFrom(d, bob.address, startBlock);
  const gasA = ta.reduce((s, t) => s + t.gasCost, 0n), gasB = tb.reduce((s, t) => s + t.gasCost, 0n);
  log(`#   alice sent ${ta.length} tx(s) (open, challenge, settle expected), bob ${tb.length} (deposit)`);
  check('alice sent exactly open + challenge + settle, bob exactly deposit', ta.length === 3 && tb.length === 1);
  const p0 = BigInt(last.payouts[0]), p1 = BigInt(last.payouts[1]);
  check('payouts of nonce 3 are the undecided split 1/1 ether', p0 === ETH && p1 === ETH);
  check('alice: balance change = payout - deposit - gas', a1 - a0 === p0 - ETH - gasA, `${a1 - a0}`);
  check('bob: balance change = payout - deposit - gas', b1 - b0 === p1 - ETH - gasB, `${b1 - b0}`);

  // bob wakes up: he learns the channel is settled, and stays quiet on-chain
  await bob.kill('SIGCONT');
  const bs = await L.waitFor(async () => {
    const s = (await bob.status(channel)).json;
    return s && s.state === 'settled' ? s : null;
  }, 20000);
  check('bob, continued, reports the channel settled', bs, bob.tail(5));
  check('bob sent nothing after waking up', (await L.txsFrom(d, bob.address, startBlock)).length === 1);
  const ea = await alice.stop(), eb = await bob.stop();
  check('both nodes stop cleanly (exit 0)', ea === 0 && eb === 0, `${ea} ${eb}`);
}

main().then(L.finish, (e) => { check('no exception', false, e.stack); L.finish(); });
