// Scenario 5, bad input: garbage on the p2p port, a third node with another
// key dialing a player, a move that reverts, a move out of turn, calldata
// that does not encode: each is rejected with a reason, nothing is stored
// (nonces stay contiguous, no burnt nonce in either store), and both nodes
// keep going to the end of the game.
'use strict';
const net = require('net');
const L = require('./lib');
const { check, log } = L;

function sendRaw(port, chunks) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', async () => {
      for (const c of chunks) { s.write(c); await L.sleep(50); }
      setTimeout(() => { s.destroy(); resolve(); }, 300);
    });
    s.on('error', () => resolve());
  });
}

async function main() {
  L.setup('bad');
  const d = await L.devnetUp();
  const alice = new L.Player('alice', d.accounts[1], d);
  const bob = new L.Player('bob', d.accounts[2], d);
  const carol = new L.Player('carol', d.accounts[3], d);
  await alice.init(['--peer-timeout', '600']);
  await bob.init(['--peer-timeout', '600']);
  await carol.init(['--peer-timeout', '600']);
  await alice.start();
  await bob.start();
  await carol.start();
  const { channel } = await L.openChannel(alice, bob, d, { deposit: '1000gwei', peerDeposit: '1000gwei' });
  const game = L.GAMES.xWins; // X0 O3 X1 O4 X2

  let r = await alice.move(channel, game[0]);
  check('move 1 signed by both', r.code === 0 && r.json && r.json.nonce === 1, r.err);

  // garbage, truncated and oversized frames on both p2p ports
  log('# garbage on the p2p ports');
  const junk = [Buffer.from('GET / HTTP/1.0\r\n\r\n'), Buffer.alloc(4096, 0xff), Buffer.from([0, 0, 0, 5, 1, 2]),
    Buffer.concat([Buffer.from([0x7f, 0xff, 0xff, 0xff]), Buffer.alloc(1024, 0x41)])];
  await sendRaw(alice.p2pPort, junk);
  await sendRaw(bob.p2pPort, junk.slice().reverse());
  await sendRaw(alice.p2pPort, [Buffer.alloc(1 << 20, 0x5a)]);

  // a third node: carol dials alice's port believing it is bob's (wrong key there)
  log('# carol (another key) dials alice');
  r = await carol.cmd('open', ['--json', '--peer', `${bob.address}@${alice.url}`, '--app', d.tictactoe,
    '--deposit', '1000gwei', '--peer-deposit', '1000gwei']);
  check('carol can open her own channel on-chain (with bob)', r.code === 0 && r.json, r.err);
  const carolCh = r.json && r.json.channel;
  await L.sleep(2500);
  const alog = alice.logText();
  check('alice refuses carol\'s session and says why', new RegExp(`${carol.address.slice(2)}.*not allowed`, 'i').test(alog),
    alice.tail(6));
  const sc = carolCh && (await carol.status(carolCh)).json;
  check('carol never gets a session (her channel shows the peer not connected)', sc && sc.peerConnected === false,
    JSON.stringify(sc));
  check('alice logs why she dropped the garbage sessions', /closed: frame length \d+ out of bounds/.test(alog),
    alice.tail(6));
  const sa = (await alice.status(channel)).json;
  check('alice still holds nonce 1 with bob connected', sa.nonce === 1 && sa.peerConnected === true, JSON.stringify(sa));
  check('alice and bob are still running', alice.proc && bob.proc && alice.proc.exitCode_ === undefined &&
    bob.proc.exitCode_ === undefined);

  // a move out of turn: it is bob's turn, alice tries
  r = await alice.move(channel, 8);
  check('out-of-turn move rejected with a reason', r.code !== 0 && /invalid move|revert|turn/i.test(r.err), r.err);
  // a move that reverts: bob plays the occupied cell 0
  r = await bob.move(channel, 0);
  check('reverting move (occupied cell) rejected with a reason', r.code !== 0 && /invalid move|revert/i.test(r.err), r.err);
  r = await bob.move(channel, 9);
  check('reverting move (cell 9) rejected', r.code !== 0 && r.err.length > 0, r.err);
  r = await bob.cmd('move', ['--json', channel, 'play(uint8)', 'x']);
  check('calldata that does not encode is refused', r.code !== 0 && /encode/i.test(r.err), r.err);
  r = await bob.cmd('move', ['--json', channel, 'nosuch()']);
  check('an unknown function is refused', r.code !== 0 && r.err.length > 0, r.err);
  r = await bob.cmd('move', ['--json', '0xdeadbeef', 'play(uint8)', '1']);
  check('an unknown channel is refused', r.code !== 0 && /no channel/i.test(r.err), r.err);
  const sa2 = (await alice.status(channel)).json, sb2 = (await bob.status(channel)).json;
  check('nothing changed: both still at nonce 1', sa2.nonce === 1 && sb2.nonce === 1, `${sa2.nonce} ${sb2.nonce}`);

  // both keep going
  for (let i = 1; i < game.length; i++) {
    r = await (i % 2 ? bob : alice).move(channel, game[i]);
    check(`move ${i + 1} signed by both (nonce ${i + 1})`, r.code === 0 && r.json && r.json.nonce === i + 1, r.err);
  }
  check('the last move is final', r.json && r.json.isFinal === true);
  const conc = await L.waitFor(async () => {
    const e = await L.events(d, 'Concluded', channel);
    return e.length ? e : null;
  }, 30000);
  check('concluded on-chain at nonce 5', conc && Number(conc[0].words[0]) === 5);

  check('all three nodes stop cleanly (exit 0)', (await alice.stop()) === 0 && (await bob.stop()) === 0 &&
    (await carol.stop()) === 0);
  for (const p of [alice, bob]) {
    const dr = await L.bp(['debug', 'dump', '--datadir', p.dir]);
    const c = dr.json && dr.json.channels.find((x) => x.channel === channel);
    const nonces = c ? c.breakpoints.map((b) => b.nonce).join(',') : '';
    const own = c ? c.ownSigs.map((b) => b.nonce).join(',') : '';
    check(`${p.name}'s store: breakpoints 0..5 only, all fully signed, no other own signature`,
      nonces === '0,1,2,3,4,5' && own === nonces && c.breakpoints.every((b) => b.sigs[0] && b.sigs[1]),
      `${nonces} / ${own}`);
  }
}

main().then(L.finish, (e) => { check('no exception', false, e.stack); L.finish(); });
