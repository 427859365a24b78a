// Fee-bumped transaction mined around a restart: alice's conclude transaction
// is stuck (anvil's automine is off), her wallet re-signs it with a higher fee
// (a new hash the store does not hold), she is killed, the bumped version is
// mined, and she restarts knowing only the first version's hash. She must
// notice that her account nonce moved past the transaction and stop waiting
// for it (before the fix it stayed "in flight" forever and blocked every later
// transaction of the channel).
'use strict';
const L = require('./lib');
const { check, log } = L;

async function main() {
  L.setup('feebump');
  const d = await L.devnetUp();
  const { alice, bob } = await L.twoPlayers(d, '600', '600');
  const { channel } = await L.openChannel(alice, bob, d, { deposit: '1000gwei', peerDeposit: '1000gwei', period: 60 });
  const game = L.GAMES.draw;
  let r;
  for (let i = 0; i < game.length - 1; i++) {
    r = await (i % 2 ? bob : alice).move(channel, game[i]);
    check(`move ${i + 1}`, r.code === 0 && r.json, r.err);
  }
  log('# automine off; the final move makes the nodes conclude');
  await L.rpc(d.rpc, 'evm_setAutomine', [false]);
  const i = game.length - 1;
  r = await (i % 2 ? bob : alice).move(channel, game[i]);
  check('the last move is final', r.code === 0 && r.json && r.json.isFinal === true, r.err);
  const sent = await L.waitFor(async () => /sent conclude transaction/.test(alice.logText()), 20000);
  check('alice sends her conclude transaction', sent, alice.tail(5));
  const pool0 = await L.rpc(d.rpc, 'txpool_content', []);
  log('# waiting for the wallet to re-sign it with a higher fee (stuck after 15 s)');
  const hashOf = (pool) => {
    const byNonce = (pool.pending || {})[alice.address] || (pool.pending || {})[alice.address.toLowerCase()] ||
      Object.entries(pool.pending || {}).find(([a]) => a.toLowerCase() === alice.address.toLowerCase())?.[1] || {};
    return Object.values(byNonce).map((t) => t.hash).join(',');
  };
  const h0 = hashOf(pool0);
  const bumped = await L.waitFor(async () => {
    const h = hashOf(await L.rpc(d.rpc, 'txpool_content', []));
    return h && h !== h0 ? h : null;
  }, 40000, 500);
  check('the pool holds a fee-bumped version of alice\'s transaction', bumped && h0, `${h0} -> ${bumped}`);
  await alice.kill('SIGKILL');
  await L.rpc(d.rpc, 'evm_mine', []);
  await L.rpc(d.rpc, 'evm_setAutomine', [true]);
  const conc = await L.waitFor(async () => {
    const e = await L.events(d, 'Concluded', channel);
    return e.length ? e : null;
  }, 20000);
  check('the bumped version concluded the channel at nonce 9', conc && conc.length === 1 && Number(conc[0].words[0]) === 9);
  await alice.start();
  const replaced = await L.waitFor(async () => /account nonce moved past the conclude transaction/.test(alice.logText()), 30000);
  check('restarted alice sees the nonce moved past her stored transaction', replaced, alice.tail(8));
  const sa = await L.waitFor(async () => {
    const s = (await alice.status(channel)).json;
    return s && s.state === 'concluded' ? s : null;
  }, 20000);
  check('alice reports concluded', sa, alice.tail(5));
  check('both nodes stop cleanly (exit 0)', (await alice.stop()) === 0 && (await bob.stop()) === 0);
}

main().then(L.finish, (e) => { check('no exception', false, e.stack); L.finish(); });
