// Scenario 5 continued, a malicious peer: bob's node is replaced by mallory
// (tests/node/mallory.c), who holds bob's key and speaks the protocol
// correctly except for one thing at a time: a nonce far ahead, a signature by
// another key, a mover that is not the proposer, a replayed proposal, a
// higher proposal while alice's own waits, an ACCEPT with a wrong signature,
// SYNC_REPLYs whose move, storage or signatures do not match. Alice must
// refuse each with a reason in her log, store nothing for it, and keep her own
// proposal. Then alice closes early, is killed while mallory keeps silent,
// and must re-send the close as a CLOSE after her restart; mallory accepts it
// and alice concludes. Her store must hold exactly breakpoints 0..4, each
// signed once by her.
'use strict';
const cp = require('child_process');
const path = require('path');
const readline = require('readline');
const L = require('./lib');
const { check, log } = L;

const MALLORY = path.join(L.BUILD, 'tests', 'node', 'mallory');

class Mallory {
  constructor(args) {
    this.events = [];
    this.proc = cp.spawn(MALLORY, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    this.exited = new Promise((r) => this.proc.on('exit', r));
    readline.createInterface({ input: this.proc.stdout }).on('line', (line) => {
      try { this.events.push(JSON.parse(line)); } catch (e) { this.events.push({ ev: 'garbage', line }); }
    });
  }
  send(cmd) { this.proc.stdin.write(cmd + '\n'); }
  // Waits for an event matching pred that arrived after index `from`.
  async wait(pred, from = 0, ms = 15000) {
    return L.waitFor(async () => this.events.slice(from).find(pred) || null, ms, 50);
  }
  async stop() { this.proc.stdin.end(); await this.exited; }
}

async function main() {
  L.setup('mallory');
  const d = await L.devnetUp();
  const { alice, bob } = await L.twoPlayers(d);
  const { channel } = await L.openChannel(alice, bob, d, { deposit: '1000gwei', peerDeposit: '1000gwei' });
  let r = await alice.move(channel, 0);
  check('move 1 (alice, cell 0) signed by both', r.code === 0 && r.json && r.json.nonce === 1, r.err);

  log('# bob\'s node stops; mallory takes his key and his port');
  check('bob stops cleanly', (await bob.stop()) === 0);
  const code = await L.rpc(d.rpc, 'eth_getCode', [d.tictactoe, 'latest']);
  const m = new Mallory([bob.key.replace(/^0x/, ''), alice.address, bob.url, String(d.chainId), d.adjudicator,
    d.tictactoe, code, String(2000n * 10n ** 9n)]);
  check('mallory is up', await m.wait((e) => e.ev === 'ready'));
  check('alice connects to mallory (bob\'s key)', await m.wait((e) => e.ev === 'connected', 0, 20000));
  let mark = m.events.length;
  m.send('sync');
  check('mallory learns the state from alice\'s SYNC_REPLY (nonce 1)',
    await m.wait((e) => e.ev === 'loaded' && e.nonce === 1, mark));

  // Each refusal: a reason in alice's log, the nonce unchanged.
  const refused = async (what, cmd, re, nonce) => {
    const before = alice.logText().length;
    m.send(cmd);
    const seen = await L.waitFor(async () => re.test(alice.logText().slice(before)), 10000, 50);
    const s = (await alice.status(channel)).json;
    check(`${what}: refused with a reason, alice stays at nonce ${nonce}`, seen && s && s.nonce === nonce,
      `${alice.logText().slice(before).trim().split('\n').slice(-3).join(' | ')} nonce ${s && s.nonce}`);
  };
  await refused('a proposal 2,000,001 nonces ahead', 'propose 2000002 1 3 blind', /nonce jumps too far ahead/, 1);
  await refused('a proposal signed by another key', 'propose 2 1 3 badsig',
    /signature does not match the breakpoint this move produces/, 1);
  await refused('a proposal whose mover is alice herself', 'propose 2 1 3 othermover',
    /the mover must be the proposing player/, 1);

  mark = m.events.length;
  m.send('propose 2 1 3 ok');
  const acc = await m.wait((e) => e.ev === 'msg' && e.type === 'ACCEPT' && e.nonce === 2, mark);
  check('a correct proposal (bob, cell 3) is accepted with alice\'s valid signature', acc && acc.valid, JSON.stringify(acc));
  mark = m.events.length;
  m.send('replay');
  const again = await m.wait((e) => e.ev === 'msg' && e.type === 'ACCEPT' && e.nonce === 2, mark);
  let s = (await alice.status(channel)).json;
  check('the same proposal replayed: alice answers with the same ACCEPT, stores nothing new',
    again && again.valid && again.same && s.nonce === 2, JSON.stringify(again));

  log('# alice proposes nonce 3; mallory misbehaves while it waits');
  mark = m.events.length;
  const pending = alice.move(channel, 1, 90);
  check('alice\'s PROPOSE 3 arrives', await m.wait((e) => e.ev === 'msg' && e.type === 'PROPOSE' && e.nonce === 3, mark));
  await refused('a higher proposal (nonce 4) while alice\'s nonce 3 waits', 'propose 4 2 4 blind',
    /concurrent proposal at nonce 4 \(ours at 3 waits\)/, 2);
  await refused('an ACCEPT of nonce 3 with a wrong signature', 'accept badsig', /ACCEPT of nonce 3 carries a wrong signature/, 2);
  await refused('a SYNC_REPLY whose move is not the signed one', 'syncreply tamper-move',
    /does not match its move hash; ignored/, 2);
  await refused('a SYNC_REPLY whose storage is not the signed state', 'syncreply tamper-storage',
    /does not match its state root; ignored/, 2);
  await refused('a SYNC_REPLY not signed by both players', 'syncreply badsig', /not signed by both players; ignored/, 2);
  m.send('syncreply ok');
  r = await pending;
  check('the correct SYNC_REPLY completes alice\'s own move (nonce 3)', r.code === 0 && r.json && r.json.nonce === 3,
    r.err);
  check('alice says she adopted it', /adopted the peer's newer breakpoint 3/.test(alice.logText()));
  check('alice\'s node is still running', alice.proc && alice.proc.exitCode_ === undefined);

  log('# alice closes early; mallory does not answer; alice is killed and restarted');
  mark = m.events.length;
  r = await alice.cmd('close', ['--json', '--timeout', '2', channel]);
  check('alice\'s close waits for an answer that does not come', r.code !== 0, r.out);
  check('her CLOSE 4 (on breakpoint 3) arrives',
    await m.wait((e) => e.ev === 'msg' && e.type === 'CLOSE' && e.nonce === 4 && e.base === 3, mark));
  await alice.kill('SIGKILL');
  mark = m.events.length;
  await alice.start();
  const again4 = await m.wait((e) => e.ev === 'msg' && (e.type === 'CLOSE' || e.type === 'PROPOSE') && e.nonce === 4,
    mark, 20000);
  check('after the restart alice re-sends her pending close as a CLOSE (not as a move)',
    again4 && again4.type === 'CLOSE', JSON.stringify(again4));
  m.send('acceptclose');
  const closed = await L.waitFor(async () => {
    const a = (await alice.status(channel)).json;
    return a && a.nonce === 4 && a.isFinal ? a : null;
  }, 20000);
  check('mallory\'s ACCEPT makes breakpoint 4 final at alice', closed, alice.tail(5));
  const conc = await L.waitFor(async () => {
    const e = await L.events(d, 'Concluded', channel);
    return e.length ? e : null;
  }, 30000);
  check('alice concludes on-chain at nonce 4', conc && Number(conc[0].words[0]) === 4);
  await m.stop();

  check('alice stops cleanly', (await alice.stop()) === 0);
  const dr = await L.bp(['debug', 'dump', '--datadir', alice.dir]);
  const c = dr.json && dr.json.channels.find((x) => x.channel === channel);
  const nonces = c ? c.breakpoints.map((b) => b.nonce).join(',') : '';
  const own = c ? c.ownSigs.map((b) => b.nonce).join(',') : '';
  check('alice\'s store: breakpoints 0..4, all fully signed, and no other signature of hers',
    nonces === '0,1,2,3,4' && own === nonces && c.breakpoints.every((b) => b.sigs[0] && b.sigs[1]),
    `${nonces} / ${own}`);
}

main().then(L.finish, (e) => { check('no exception', false, e.stack); L.finish(); });
