// Scenario 4, crash and resume: kill -9 of either node at random moments of
// several games (>= 20 kills), restart on the same datadir, every game
// continues from the last breakpoint, finishes and is concluded on-chain.
// Then a node restarted on an older copy of its datadir (a restored backup)
// syncs, adopts the newer breakpoint and plays on instead of challenging.
// Finally both stores are read (`bp debug dump`): no nonce was ever signed
// twice with different content by either player.
'use strict';
const fs = require('fs');
const path = require('path');
const L = require('./lib');
const { check, log } = L;
const { ethers } = require(path.join(L.ROOT, 'node_modules', 'ethers'));

const MIN_KILLS = 20;
const seed0 = Number(process.env.BP_SEED || Date.now() % 100000);
let seed = seed0;
function rand() { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; }

async function board(players, channel) {
  for (const p of players) {
    if (!p.proc) continue;
    const r = await p.cmd('call', ['--json', '--timeout', '5', channel, 'board()(uint8[9])']);
    if (r.code === 0 && r.json) return r.json.values[0].map(Number);
  }
  return null;
}

// Plays cell as mover until the board shows it taken (the move may land even
// when the API call failed: a re-sent proposal after a restart).
async function playUntilDone(players, mover, channel, cell, deadline) {
  let tries = 0;
  for (;;) {
    const b = await board(players, channel);
    if (b && b[cell] !== 0) return tries;
    if (Date.now() > deadline) throw new Error(`move on cell ${cell} never landed`);
    if (mover.proc) {
      tries++;
      await mover.move(channel, cell, 10);
    }
    await L.sleep(100);
  }
}

async function main() {
  L.setup('crash');
  log(`# seed ${seed0} (BP_SEED to replay)`);
  const d = await L.devnetUp();
  const alice = new L.Player('alice', d.accounts[1], d);
  const bob = new L.Player('bob', d.accounts[2], d);
  const players = [alice, bob];
  await alice.init(['--peer-timeout', '600']);
  await bob.init(['--peer-timeout', '600']);
  await alice.start();
  await bob.start();

  // --- the killer: while `storm` is on, kill -9 one node at random moments and restart it
  let storm = false, kills = 0, stopKiller = false, inKill = false;
  const killsOf = { alice: 0, bob: 0 };
  const killer = (async () => {
    while (!stopKiller) {
      await L.sleep(100 + Math.floor(rand() * 500));
      if (!storm || stopKiller) continue;
      const v = rand() < 0.5 ? alice : bob;
      if (!v.proc) continue;
      inKill = true;
      await v.kill('SIGKILL');
      kills++;
      killsOf[v.name]++;
      await L.sleep(Math.floor(rand() * 300));
      await v.start();
      inKill = false;
    }
  })();
  const calm = async () => { storm = false; while (inKill) await L.sleep(50); };

  const channels = [];
  const kinds = [L.GAMES.xWins, L.GAMES.oWins, L.GAMES.draw];
  const games = Array.from({ length: 12 }, (_, i) => kinds[i % 3]);
  const t0 = Date.now();
  for (let g = 0; g < games.length && (kills < MIN_KILLS || g < 2); g++) {
    await calm();
    const { channel } = await L.openChannel(alice, bob, d, { deposit: '1000gwei', peerDeposit: '1000gwei' });
    channels.push(channel);
    storm = true;
    const deadline = Date.now() + 90000;
    let retries = 0;
    for (let i = 0; i < games[g].length; i++) retries += await playUntilDone(players, i % 2 ? bob : alice, channel, games[g][i], deadline);
    const b = await board(players, channel);
    check(`game ${g + 1} finished under kill -9 (${kills} kills so far, ${retries} move calls)`,
      b && b.filter((x) => x !== 0).length === games[g].length, JSON.stringify(b));
  }
  await calm();
  stopKiller = true;
  await killer;
  for (const p of players) if (!p.proc) await p.start();
  log(`# ${kills} kills (alice ${killsOf.alice}, bob ${killsOf.bob}) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  check(`at least ${MIN_KILLS} kills, both nodes killed`, kills >= MIN_KILLS && killsOf.alice > 0 && killsOf.bob > 0);

  for (const [i, channel] of channels.entries()) {
    let why = '';
    const ok = await L.waitFor(async () => {
      const e = await L.events(d, 'Concluded', channel);
      const a = (await alice.status(channel)), b = (await bob.status(channel));
      why = `events ${JSON.stringify(e.map((x) => x.words.map(String)))}; alice ${a.out}${a.err}; bob ${b.out}${b.err}`;
      return e.length === 1 && a.json.state === 'concluded' && b.json.state === 'concluded' &&
        a.json.nonce === b.json.nonce && Number(e[0].words[0]) === a.json.nonce;
    }, 30000);
    check(`game ${i + 1}: concluded on-chain once, at the nonce both nodes hold`, ok, why);
  }
  check('no challenge happened', (await Promise.all(channels.map((c) => L.events(d, 'Challenged', c)))).every((e) => e.length === 0));

  // --- kill -9 exactly between the durable store write and the send (the node's test hook)
  log('# kill -9 between the store write and the send (BP_TEST_KILL_AFTER_SIGN)');
  const HOOK_KILLS = 10;
  let hookKills = 0, resurrect = true, arming = false;
  const armed = (p) => { p.env = arming && hookKills < HOOK_KILLS ? { BP_TEST_KILL_AFTER_SIGN: String(1 + Math.floor(rand() * 3)) } : {}; };
  const resurrector = (async () => {
    while (resurrect) {
      for (const p of players) {
        if (p.proc && (p.proc.exitSig || p.proc.exitCode_ !== undefined)) {
          if (/test hook: killing this node/.test(p.tail(2))) hookKills++;
          p.proc = null;
          armed(p);
          await p.start(false); // an armed node may die again before it answers
        }
      }
      await L.sleep(50);
    }
  })();
  for (let g = 0; g < 3; g++) {
    arming = false;
    for (const p of players) { while (!p.proc) await L.sleep(50); armed(p); await p.stop(); await p.start(); }
    const { channel } = await L.openChannel(alice, bob, d, { deposit: '1000gwei', peerDeposit: '1000gwei' });
    channels.push(channel);
    arming = true;
    for (const p of players) { while (!p.proc) await L.sleep(50); armed(p); await p.stop(); await p.start(); }
    const game = kinds[g % 3];
    for (let i = 0; i < game.length; i++) await playUntilDone(players, i % 2 ? bob : alice, channel, game[i], Date.now() + 60000);
    const ok = await L.waitFor(async () => {
      const e = await L.events(d, 'Concluded', channel);
      return e.length === 1 && (await alice.status(channel)).json.state === 'concluded' &&
        (await bob.status(channel)).json.state === 'concluded';
    }, 30000);
    check(`hook game ${g + 1} finished and concluded (${hookKills} kills between store and send so far)`, ok,
      `${alice.tail(4)}\n${bob.tail(4)}`);
  }
  arming = false;
  resurrect = false;
  await resurrector;
  for (const p of players) { p.env = {}; if (p.proc) await p.stop(); await p.start(); }
  check(`at least 5 kills landed between the store write and the send (${hookKills})`, hookKills >= 5);

  // --- restored backup
  log('# restored backup: bob restarts on a copy of his datadir from nonce 2');
  const { channel } = await L.openChannel(alice, bob, d, { deposit: '1000gwei', peerDeposit: '1000gwei' });
  const game = L.GAMES.oWins;
  for (let i = 0; i < 2; i++) await playUntilDone(players, i % 2 ? bob : alice, channel, game[i], Date.now() + 30000);
  check('bob stops cleanly for the backup', (await bob.stop()) === 0);
  fs.cpSync(bob.dir, bob.dir + '.bak', { recursive: true });
  await bob.start();
  for (let i = 2; i < 5; i++) await playUntilDone(players, i % 2 ? bob : alice, channel, game[i], Date.now() + 30000);
  const before = (await alice.status(channel)).json;
  await bob.kill('SIGKILL');
  fs.rmSync(bob.dir, { recursive: true, force: true });
  fs.cpSync(bob.dir + '.bak', bob.dir, { recursive: true });
  bob.extra = ['--peer-timeout', '2']; // a stale node would challenge soon after
  await bob.start();
  const adopted = await L.waitFor(async () => {
    const s = (await bob.status(channel)).json;
    return s && s.nonce === before.nonce && s.stateRoot === before.stateRoot ? s : null;
  }, 20000);
  check(`restored bob adopts alice's newer breakpoint ${before.nonce}`, adopted, bob.tail(6));
  check('bob logs the adoption', /adopted the peer's newer breakpoint 5/.test(bob.logText()));
  const r = await bob.move(channel, game[5], 20);
  check('restored bob plays the winning move', r.code === 0 && r.json && r.json.isFinal === true, r.err + r.out);
  const conc = await L.waitFor(async () => {
    const e = await L.events(d, 'Concluded', channel);
    return e.length ? e : null;
  }, 30000);
  check('concluded at the final nonce, never challenged', conc && Number(conc[0].words[0]) === r.json.nonce &&
    (await L.events(d, 'Challenged', channel)).length === 0);
  channels.push(channel);

  // --- kill -9 during open (alice) and deposit (bob): no funds lost from sight, nothing sent twice
  log('# kill -9 during open and deposit');
  const fromBlock = Number(await L.rpc(d.rpc, 'eth_blockNumber')) + 1;
  const openedBefore = new Set((await L.events(d, 'Opened')).map((e) => e.tx));
  for (let round = 0; round < 6; round++) {
    const victim = round % 2 ? bob : alice;
    const pending = alice.cmd('open', ['--json', '--peer', `${bob.address}@${bob.url}`, '--app', d.tictactoe,
      '--deposit', '1000gwei', '--peer-deposit', '1000gwei']);
    await L.sleep(round % 2 ? 20 + Math.floor(rand() * 200) : Math.floor(rand() * 60));
    await victim.kill('SIGKILL');
    kills++;
    await pending;
    await victim.start();
  }
  const opened = (await L.events(d, 'Opened')).filter((e) => !openedBefore.has(e.tx));
  const ids = [];
  for (const e of opened) {
    const logs = await L.rpc(d.rpc, 'eth_getTransactionReceipt', [e.tx]);
    ids.push(logs.logs[0].topics[1]);
  }
  log(`#   ${opened.length} of 6 opens reached the chain`);
  for (const id of ids) {
    const ok = await L.waitFor(async () => {
      const a = (await alice.status(id)).json, b = (await bob.status(id)).json;
      return a && b && a.state === 'open' && b.state === 'open' && (await L.chanState(d, id)).status === 2;
    }, 30000);
    check(`channel ${id.slice(0, 10)} opened under kill -9 is funded and open on both nodes`, ok,
      `${alice.tail(3)}\n${bob.tail(3)}`);
    const dep = await L.events(d, 'Deposited', id);
    check(`  exactly one deposit for ${id.slice(0, 10)}`, dep.length === 1, dep.length);
  }
  await L.sleep(1500);
  const ta = await L.txsFrom(d, alice.address, fromBlock), tb = await L.txsFrom(d, bob.address, fromBlock);
  check(`alice sent one open per Opened channel (${ta.length} txs, ${opened.length} channels), none reverted`,
    ta.length === opened.length && ta.every((t) => t.status === '0x1'));
  check(`bob sent one deposit per channel (${tb.length}), none reverted`, tb.length === ids.length &&
    tb.every((t) => t.status === '0x1'));
  const stuck = ((await alice.status()).json.channels || []).filter((c) => !ids.includes(c.channel) &&
    !channels.includes(c.channel));
  log(`#   alice has ${stuck.length} channel(s) that never reached the chain (states: ${stuck.map((c) => c.state).join(',') || '-'})`);

  // --- the safety invariant, read from both stores
  check('both nodes stop cleanly (exit 0)', (await alice.stop()) === 0 && (await bob.stop()) === 0);
  const dumps = {};
  for (const p of players) {
    const dr = await L.bp(['debug', 'dump', '--datadir', p.dir]);
    check(`bp debug dump reads ${p.name}'s store`, dr.code === 0 && dr.json, dr.err);
    dumps[p.name] = dr.json;
  }
  let sigs = 0, bad = [];
  for (const [pi, p] of players.entries()) {
    const seen = new Map(); // channel:nonce -> digest signed by p
    const note = (ch, nonce, digest, where) => {
      const k = `${ch}:${nonce}`;
      sigs++;
      if (seen.has(k) && seen.get(k).digest !== digest) bad.push(`${p.name} signed ${k} twice: ${seen.get(k).where} vs ${where}`);
      else if (!seen.has(k)) seen.set(k, { digest, where });
    };
    for (const q of players) {
      for (const c of dumps[q.name].channels) {
        for (const b of c.breakpoints) {
          const s = b.sigs[pi];
          if (!s) continue;
          if (ethers.recoverAddress(b.digest, s).toLowerCase() !== p.address.toLowerCase())
            bad.push(`${q.name}'s record ${c.channel.slice(0, 10)}:${b.nonce} holds a bad signature of ${p.name}`);
          note(c.channel, b.nonce, b.digest, `${q.name}'s breakpoint record`);
        }
        if (q === p) for (const o of c.ownSigs) note(c.channel, o.nonce, o.digest, `${p.name}'s own-signature table`);
      }
    }
  }
  check(`no nonce signed twice with different content (${sigs} signatures checked in both stores)`,
    bad.length === 0 && sigs > 50, bad.slice(0, 5).join('\n'));
}

main().then(L.finish, (e) => { check('no exception', false, e.stack); L.finish(); });
