// Scenario 1, happy path: open -> bp 0 -> deposit -> a full TicTacToe game by
// `bp move` -> final breakpoint -> concluded on-chain. Checks the balances
// (payouts - deposits - gas from receipts), the --json of every client
// command, and (differential) that every breakpoint's state root equals
// anvil's storageHash after the same calls on a fresh on-chain TicTacToe.
'use strict';
const fs = require('fs');
const path = require('path');
const L = require('./lib');
const { check, log } = L;

const ETH = 10n ** 18n;

async function main() {
  const tmp = L.setup('happy');
  const d = await L.devnetUp();
  const { alice, bob } = await L.twoPlayers(d, null, null);

  const startBlock = Number(await L.rpc(d.rpc, 'eth_blockNumber')) + 1;
  const a0 = await L.balance(d, alice.address), b0 = await L.balance(d, bob.address);

  // status --json before any channel
  const st0 = await alice.status();
  check('status --json lists the node address and no channel',
    st0.code === 0 && st0.json && st0.json.address.toLowerCase() === alice.address.toLowerCase() &&
    Array.isArray(st0.json.channels) && st0.json.channels.length === 0, st0.out + st0.err);

  const depA = 1n * ETH, depB = 2n * ETH;
  const { channel, open } = await L.openChannel(alice, bob, d, { deposit: '1ether', peerDeposit: '2ether' });
  check('open --json has channel, txHash, gasUsed', /^0x[0-9a-f]{64}$/.test(channel) &&
    /^0x[0-9a-f]{64}$/.test(open.txHash || '') && Number.isInteger(open.gasUsed), JSON.stringify(open));

  // Breakpoint 0 is settled between the nodes: with no move in flight they
  // exchange only pings, never an endless ACCEPT 0 ping-pong (a bug once).
  // Several channels opened at once make both nodes resend breakpoint 0
  // messages, which is where the ping-pong started.
  const extra = await Promise.all(Array.from({ length: 8 }, () =>
    L.openChannel(alice, bob, d, { deposit: '1000', peerDeposit: '1000' })));
  for (const ch of [channel, ...extra.map((e) => e.channel)])
    await L.waitFor(async () => (await alice.status(ch)).json?.state === 'open');
  const before = (await alice.status()).json.p2p;
  await L.sleep(2000);
  const after = (await alice.status()).json.p2p;
  check('an idle channel exchanges no more than a few frames in 2 s',
    after.framesSent - before.framesSent <= 6 && after.framesReceived - before.framesReceived <= 6,
    `${JSON.stringify(before)} -> ${JSON.stringify(after)}`);

  // both sides: status --json fields, breakpoint 0
  const keys = ['channel', 'state', 'nonce', 'stateRoot', 'payouts', 'peer', 'peerConnected'];
  const sa = (await alice.status(channel)).json, sb = (await bob.status(channel)).json;
  check('status --json has ' + keys.join(','), keys.every((k) => k in sa) && keys.every((k) => k in sb),
    JSON.stringify(sa));
  check('alice and bob agree on breakpoint 0', sa.nonce === 0 && sb.nonce === 0 && sa.stateRoot === sb.stateRoot &&
    /^0x[0-9a-f]{64}$/.test(sa.stateRoot), `${sa.nonce} ${sb.nonce} ${sa.stateRoot} ${sb.stateRoot}`);
  check('peer fields name the other player', sa.peer.toLowerCase() === bob.address.toLowerCase() &&
    sb.peer.toLowerCase() === alice.address.toLowerCase() && sa.peerConnected === true && sb.peerConnected === true,
    JSON.stringify([sa.peer, sa.peerConnected, sb.peer, sb.peerConnected]));
  const pot = depA + depB;
  check('payouts at bp 0 are TicTacToe\'s undecided split [pot - pot/2, pot/2]',
    sa.payouts[0] === String(pot - pot / 2n) && sa.payouts[1] === String(pot / 2n), JSON.stringify(sa.payouts));
  const dep = await L.events(d, 'Deposited', channel);
  check('bob deposited on-chain (one Deposited event, total 3 ether)', dep.length === 1 && dep[0].words[0] === depB &&
    dep[0].words[1] === depA + depB, JSON.stringify(dep.map((e) => e.words.map(String))));
  check('adjudicator says funded (status 2)', (await L.chanState(d, channel)).status === 2);

  // the game: O wins (payouts [0, pot])
  const game = L.GAMES.oWins;
  const roots = [{ nonce: 0, root: sa.stateRoot }];
  let last = null;
  for (let i = 0; i < game.length; i++) {
    const mover = i % 2 === 0 ? alice : bob;
    const r = await mover.move(channel, game[i]);
    const ok = r.code === 0 && r.json && typeof r.json.nonce === 'number';
    check(`move ${i + 1}: ${mover.name} plays cell ${game[i]}`, ok, r.err + r.out);
    if (!ok) break;
    roots.push({ nonce: r.json.nonce, root: r.json.stateRoot, isFinal: r.json.isFinal, mover, cell: game[i] });
    last = r.json;
    const other = mover === alice ? bob : alice;
    const so = (await other.status(channel)).json;
    check(`  ${other.name} holds the same breakpoint (nonce ${r.json.nonce})`,
      so && so.nonce === r.json.nonce && so.stateRoot === r.json.stateRoot, JSON.stringify(so));
  }
  check('move --json has nonce, stateRoot, payouts, isFinal', last && 'stateRoot' in last && 'payouts' in last &&
    'isFinal' in last, JSON.stringify(last));
  check('nonces increase by one per move', roots.every((x, i) => x.nonce === i), roots.map((x) => x.nonce).join(','));
  check('last breakpoint is final with payouts [0, 3 ether]', last && last.isFinal === true &&
    last.payouts[0] === '0' && last.payouts[1] === String(depA + depB), JSON.stringify(last));
  check('earlier breakpoints are not final', roots.slice(1, -1).every((x) => x.isFinal === false));

  // call --json
  const board = await alice.cmd('call', ['--json', channel, 'board()(uint8[9])']);
  const want = [1, 1, 0, 2, 2, 2, 0, 0, 1];
  const got = board.json && board.json.values && board.json.values[0];
  check('call --json board() shows the final board', Array.isArray(got) && got.map(Number).join() === want.join(),
    board.out + board.err);
  const win = await bob.cmd('call', ['--json', channel, 'winner()(uint8)']);
  check('call --json winner() = 2 (O)', win.json && Number(win.json.values[0]) === 2, win.out + win.err);

  // concluded on-chain, automatically
  const concluded = await L.waitFor(async () => {
    const a = (await alice.status(channel)).json, b = (await bob.status(channel)).json;
    return a.state === 'concluded' && b.state === 'concluded';
  }, 30000);
  check('both nodes report concluded', concluded, `${alice.tail(5)}\n${bob.tail(5)}`);
  const conc = await L.events(d, 'Concluded', channel);
  check('one Concluded event at the final nonce', conc.length === 1 && Number(conc[0].words[0]) === last.nonce,
    JSON.stringify(conc.map((e) => e.words.map(String))));
  check('adjudicator says closed (status 4)', (await L.chanState(d, channel)).status === 4);

  // balances: exactly payouts - deposits - gas
  await L.sleep(1000); // let any late tx land (there must be none)
  const a1 = await L.balance(d, alice.address), b1 = await L.balance(d, bob.address);
  const ta = await L.txsFrom(d, alice.address, startBlock), tb = await L.txsFrom(d, bob.address, startBlock);
  const gasA = ta.reduce((s, t) => s + t.gasCost, 0n), gasB = tb.reduce((s, t) => s + t.gasCost, 0n);
  log(`#   alice sent ${ta.length} tx(s), gas ${gasA} wei; bob sent ${tb.length} tx(s), gas ${gasB} wei`);
  check('every node transaction succeeded', [...ta, ...tb].every((t) => t.status === '0x1'));
  const locked = BigInt(extra.length) * 1000n; // each player's deposits in the idle extra channels
  check('alice: balance change = 0 - 1 ether - gas', a1 - a0 === 0n - depA - locked - gasA,
    `${a1 - a0} vs ${-depA - locked - gasA}`);
  check('bob: balance change = 3 ether - 2 ether - gas', b1 - b0 === depA + depB - depB - locked - gasB, `${b1 - b0}`);
  // per channel one open (alice) and one deposit (bob), plus one conclude of the game
  const n = 1 + extra.length;
  check('alice: one open per channel + at most the conclude; bob: one deposit per channel + at most the conclude',
    ta.length >= n && ta.length <= n + 1 && tb.length >= n && tb.length <= n + 1 && ta.length + tb.length === 2 * n + 1,
    `${ta.length} ${tb.length}`);
  for (const t of [...ta, ...tb]) {
    check(`tx ${t.hash.slice(0, 10)} goes to the adjudicator`, t.to.toLowerCase() === d.adjudicator.toLowerCase());
  }

  // differential: the same calls on a fresh on-chain TicTacToe
  const { ethers } = require(path.join(L.ROOT, 'node_modules', 'ethers'));
  const kf = path.join(tmp, 'deployer.key');
  fs.writeFileSync(kf, d.accounts[0].key + '\n', { mode: 0o600 });
  const dep2 = await L.bp(['deploy', '--eth', d.rpc, '--key-file', kf, '--artifact',
    path.join(L.BUILD, 'chain', 'contracts', 'TicTacToe.json')]);
  const ttt = dep2.out.trim();
  check('deployed a fresh TicTacToe', /^0x[0-9a-fA-F]{40}$/.test(ttt), dep2.err);
  const iface = new ethers.Interface(['function init(address[] players, bytes args)', 'function play(uint8 cell)']);
  await L.rpc(d.rpc, 'anvil_setBalance', [d.adjudicator, '0x56BC75E2D63100000']);
  await L.rpc(d.rpc, 'anvil_impersonateAccount', [d.adjudicator]);
  const send = async (from, data) => {
    const h = await L.rpc(d.rpc, 'eth_sendTransaction', [{ from, to: ttt, data, gas: '0x100000' }]);
    const rc = await L.waitFor(() => L.rpc(d.rpc, 'eth_getTransactionReceipt', [h]), 10000, 50);
    return rc && rc.status === '0x1';
  };
  const storageHash = async () => (await L.rpc(d.rpc, 'eth_getProof', [ttt, [], 'latest'])).storageHash;
  const okInit = await send(d.adjudicator, iface.encodeFunctionData('init', [[alice.address, bob.address], '0x']));
  check('on-chain init from the adjudicator address succeeded', okInit);
  let h = await storageHash();
  check(`bp 0: state root ${roots[0].root.slice(0, 10)}… = on-chain storageHash`, h === roots[0].root, `${h}`);
  for (const x of roots.slice(1)) {
    const ok = await send(x.mover.address, iface.encodeFunctionData('play', [x.cell]));
    h = await storageHash();
    check(`bp ${x.nonce}: ${x.mover.name} play(${x.cell}) on-chain ok, root = storageHash`, ok && h === x.root,
      `${h} vs ${x.root}`);
  }

  // bp close --json: an early agreed stop after one move concludes at the split payouts
  const { channel: ch2 } = await L.openChannel(alice, bob, d, { deposit: '1000gwei', peerDeposit: '1000gwei' });
  const mv = await alice.move(ch2, 4);
  check('channel 2: one move', mv.code === 0 && mv.json && mv.json.nonce === 1, mv.err);
  const cl = await bob.cmd('close', ['--json', ch2]);
  check('close --json answers with a final breakpoint after nonce 1', cl.code === 0 && cl.json &&
    cl.json.nonce === 2 && cl.json.isFinal === true && cl.json.stateRoot === mv.json.stateRoot, cl.out + cl.err);
  const conc2 = await L.waitFor(async () => {
    const e = await L.events(d, 'Concluded', ch2);
    return e.length ? e : null;
  }, 30000);
  check('channel 2 concluded on-chain at nonce 2', conc2 && Number(conc2[0].words[0]) === 2);
  const st2 = await L.bp(['settle', '--api', alice.api, '--datadir', alice.dir, '--json', ch2]);
  check('settle on a concluded channel is refused with a reason', st2.code !== 0 && st2.err.length > 10, st2.err);

  // normal shutdown: exit code 0 (leaks at shutdown are reported by ASan as a failure)
  const ea = await alice.stop(), eb = await bob.stop();
  check('both nodes stop cleanly on SIGTERM (exit 0)', ea === 0 && eb === 0, `${ea} ${eb}\n${alice.tail(5)}\n${bob.tail(5)}`);
}

main().then(L.finish, (e) => { check('no exception', false, e.stack); L.finish(); });
