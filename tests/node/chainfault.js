// Scenario 6, chain faults: the RPC node (anvil) hangs (SIGSTOP) in the
// middle of a game. Play goes on off-chain; the final breakpoint is concluded
// once anvil is back (SIGCONT). Then, in a second channel, the peer goes
// silent while the chain is down: the challenge waits for the chain, happens
// once it is back, and the channel settles at the latest breakpoint.
'use strict';
const L = require('./lib');
const { check, log } = L;

async function main() {
  L.setup('chainfault');
  const d = await L.devnetUp();
  const { alice, bob } = await L.twoPlayers(d, '3', '600');
  let { channel } = await L.openChannel(alice, bob, d, { deposit: '1000gwei', peerDeposit: '1000gwei', period: 60 });
  const game = L.GAMES.draw;
  let r;
  for (let i = 0; i < 3; i++) {
    r = await (i % 2 ? bob : alice).move(channel, game[i]);
    check(`move ${i + 1} with the chain up`, r.code === 0 && r.json, r.err);
  }

  log('# anvil hangs (SIGSTOP)');
  process.kill(d.anvilPid, 'SIGSTOP');
  let anvilStopped = true;
  process.on('exit', () => { if (anvilStopped) { try { process.kill(d.anvilPid, 'SIGCONT'); } catch (e) { /* gone */ } } });
  const t0 = Date.now();
  for (let i = 3; i < game.length; i++) {
    const t = Date.now();
    r = await (i % 2 ? bob : alice).move(channel, game[i], 60);
    check(`move ${i + 1} with the chain down (${Date.now() - t} ms)`, r.code === 0 && r.json && r.json.nonce === i + 1, r.err);
  }
  check('the last move is final (a draw)', r.json && r.json.isFinal === true);
  const sa = (await alice.status(channel)).json;
  check('alice waits to conclude (state closing)', sa.state === 'closing', sa.state);
  log(`#   ${game.length - 3} moves in ${((Date.now() - t0) / 1000).toFixed(1)} s with the chain down`);
  await L.sleep(2000);
  check('alice says the chain is unreachable', /not reachable; play goes on off-chain/.test(alice.logText()));

  log('# anvil is back (SIGCONT)');
  process.kill(d.anvilPid, 'SIGCONT');
  anvilStopped = false;
  const conc = await L.waitFor(async () => {
    const e = await L.events(d, 'Concluded', channel);
    return e.length ? e : null;
  }, 60000);
  check('concluded once anvil is back, at the final nonce 9', conc && conc.length === 1 && Number(conc[0].words[0]) === 9,
    alice.tail(5));
  check('both nodes report concluded', await L.waitFor(async () =>
    (await alice.status(channel)).json.state === 'concluded' && (await bob.status(channel)).json.state === 'concluded', 20000));

  // second channel: the peer goes silent while the chain is down
  ({ channel } = await L.openChannel(alice, bob, d, { deposit: '1000gwei', peerDeposit: '1000gwei', period: 60 }));
  for (let i = 0; i < 2; i++) {
    r = await (i % 2 ? bob : alice).move(channel, game[i]);
    check(`channel 2: move ${i + 1}`, r.code === 0 && r.json, r.err);
  }
  log('# anvil hangs, then bob goes silent');
  process.kill(d.anvilPid, 'SIGSTOP');
  anvilStopped = true;
  await bob.kill('SIGSTOP');
  await L.sleep(8000); // > peer timeout: alice wants to challenge but cannot reach the chain
  const contAt = Math.floor(Date.now() / 1000);
  process.kill(d.anvilPid, 'SIGCONT');
  anvilStopped = false;
  const ch = await L.waitFor(async () => {
    const e = await L.events(d, 'Challenged', channel);
    return e.length ? e : null;
  }, 30000);
  const chBlock = ch && await L.rpc(d.rpc, 'eth_getBlockByNumber', ['0x' + ch[0].block.toString(16), false]);
  check('the challenge was mined only after anvil came back', chBlock && Number(chBlock.timestamp) >= contAt,
    chBlock && `${Number(chBlock.timestamp)} < ${contAt}`);
  check('alice challenges with nonce 2 once anvil is back', ch && ch.length === 1 && Number(ch[0].words[0]) === 2,
    alice.tail(6));
  await L.rpc(d.rpc, 'evm_increaseTime', [62]);
  await L.rpc(d.rpc, 'evm_mine', []);
  const st = await L.waitFor(async () => {
    const e = await L.events(d, 'Settled', channel);
    return e.length ? e : null;
  }, 30000);
  check('settled at nonce 2', st && Number(st[0].words[0]) === 2);
  await bob.kill('SIGCONT');
  check('both nodes stop cleanly (exit 0)', (await alice.stop()) === 0 && (await bob.stop()) === 0);
}

main().then(L.finish, (e) => { check('no exception', false, e.stack); L.finish(); });
