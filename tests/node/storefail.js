// A store that cannot commit (a full or broken disk, simulated by the test
// hook BP_TEST_FAIL_COMMIT=3: the batch that holds bob's third signature, his
// ACCEPT of alice's first move, fails to commit). Bob must send nothing of
// that batch (alice never gets his signature), say why, and stop with exit
// status 1; his store must not hold breakpoint 1. Restarted without the hook,
// bob gets alice's proposal again and the move completes on both sides.
'use strict';
const L = require('./lib');
const { check, log } = L;

async function dump(p, channel) {
  const dr = await L.bp(['debug', 'dump', '--datadir', p.dir]);
  const c = dr.json && dr.json.channels.find((x) => x.channel === channel);
  return c ? { nonces: c.breakpoints.map((b) => b.nonce).join(','), own: c.ownSigs.map((b) => b.nonce).join(',') } : null;
}

async function main() {
  L.setup('storefail');
  const d = await L.devnetUp();
  const alice = new L.Player('alice', d.accounts[1], d);
  const bob = new L.Player('bob', d.accounts[2], d);
  await alice.init(['--peer-timeout', '600']);
  await bob.init(['--peer-timeout', '600']);
  bob.env = { BP_TEST_FAIL_COMMIT: '3' };
  await alice.start();
  await bob.start();
  const { channel } = await L.openChannel(alice, bob, d, { deposit: '1000gwei', peerDeposit: '1000gwei' });

  log('# alice moves; bob\'s commit of his answer fails');
  const r = await alice.move(channel, 0, 5);
  check('alice\'s move gets no answer (bob sent no signature)', r.code !== 0, r.out);
  const exited = await L.waitFor(async () => bob.proc.exitCode_ !== undefined || null, 10000);
  check('bob stops with exit status 1', exited && bob.proc.exitCode_ === 1, `${bob.proc.exitCode_} ${bob.proc.exitSig}`);
  check('bob says why', /the store could not commit .*nothing of the last \d+ action\(s\) was sent; stopping/.test(bob.logText()),
    bob.tail(4));
  const a = (await alice.status(channel)).json;
  check('alice is still at breakpoint 0 (her move waits)', a && a.nonce === 0 && a.pendingNonce === 1, JSON.stringify(a));
  const h = await alice.cmd('status', [channel]);
  check('bp status says the proposal waits', h.code === 0 && /nonce +0 \(our proposal 1 waits for the peer's signature\)/.test(h.out),
    h.out);
  bob.proc = null;
  let s = await dump(bob, channel);
  check('bob\'s store holds breakpoint 0 only, and no signature of his at nonce 1', s && s.nonces === '0' && s.own === '0',
    JSON.stringify(s));

  log('# bob restarts without the hook');
  bob.env = {};
  await bob.start();
  const done = await L.waitFor(async () => {
    const x = (await alice.status(channel)).json, y = (await bob.status(channel)).json;
    return x && y && x.nonce === 1 && y.nonce === 1;
  }, 30000);
  check('alice re-sends her proposal and both reach breakpoint 1', done, `${alice.tail(3)}\n--\n${bob.tail(3)}`);
  check('both nodes stop cleanly', (await alice.stop()) === 0 && (await bob.stop()) === 0);
  for (const p of [alice, bob]) {
    s = await dump(p, channel);
    check(`${p.name}'s store: breakpoints 0,1, each signed once by ${p.name}`, s && s.nonces === '0,1' && s.own === '0,1',
      JSON.stringify(s));
  }
}

main().then(L.finish, (e) => { check('no exception', false, e.stack); L.finish(); });
