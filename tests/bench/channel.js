// Channel benchmark (issue 5, "Speed"): two `bp node` processes over loopback
// with durable stores against their own devnet. Prints per-move round-trip
// latency (p50/p99, measured at the API client) and moves per second for 1
// channel and for N concurrent channels. Prints figures; asserts nothing about time.
// TicTacToe games end after at most 9 moves, so each channel plays one drawn
// game (9 moves): the load is many channels, not many moves per channel.
// Env: BP_BUILD (a release build), BENCH_CHANNELS (default 64), BENCH_SOLO (default 8),
// BENCH_ROUNDS (default 3: each of the N concurrent lanes plays that many games
// one after another on fresh channels, so the measured phase lasts long enough).
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const L = require('../node/lib.js');

const N = Number(process.env.BENCH_CHANNELS || 64);
const SOLO = Number(process.env.BENCH_SOLO || 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
const SLOW_MS = Number(process.env.BENCH_SLOW_MS || 0); // diagnosis: print each move slower than this
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function post(player, route, body) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const [host, port] = player.api.split(':');
    const req = http.request({ host, port: Number(port), path: route, method: 'POST', agent,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data),
        Authorization: `Bearer ${player.token}` } }, (res) => {
      let s = '';
      res.on('data', (c) => { s += c; });
      res.on('end', () => resolve({ status: res.statusCode, body: s }));
    });
    req.on('error', reject);
    req.setTimeout(60000, () => req.destroy(new Error('timeout')));
    req.end(data);
  });
}

// One drawn game on channel ch; pushes each move's round trip (ms) into lat.
async function playGame(alice, bob, ch, lat) {
  const cells = L.GAMES.draw;
  for (let i = 0; i < cells.length; i++) {
    const p = i % 2 === 0 ? alice : bob;
    const t0 = process.hrtime.bigint();
    const r = await post(p, '/v1/move', { channel: ch, signature: 'play(uint8)', args: [String(cells[i])] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 200) throw new Error(`move ${i} on ${ch}: HTTP ${r.status} ${r.body}`);
    lat.push(ms);
    if (SLOW_MS && ms > SLOW_MS) L.log(`  slow move: ${ms.toFixed(1)} ms, ${p.name} on ${ch.slice(0, 10)} move ${i}, started ${new Date(Date.now() - ms).toISOString()}`);
  }
}

// CPU seconds (user+system) used so far by process pid, from /proc (Linux only).
function cpu(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const w = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(w[11]) + Number(w[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch (e) { return NaN; }
}
function cpuAll(alice, bob) {
  const me = process.cpuUsage();
  return [cpu(alice.proc.pid), cpu(bob.proc.pid), (me.user + me.system) / 1e6];
}

// The nodes' own timers (status "metrics"): where the time of a move goes.
async function metrics(p) {
  const r = await post(p, '/v1/status', {});
  if (r.status !== 200) throw new Error(`status: HTTP ${r.status} ${r.body}`);
  return JSON.parse(r.body).result.metrics;
}
async function metricsAll(alice, bob) { return [await metrics(alice), await metrics(bob)]; }
// Per move and per node: EVM, signing, recovery, LMDB commit (µs), and how
// many store writes one commit carried (the group commit at work).
// With one channel at a time a move's round trip is the sum of both nodes'
// work and the rest (network, HTTP API, thread hand-offs), so the rest is
// printed; with many channels at once the round trip is mostly queueing.
function splitReport(before, after, lat, solo) {
  const moves = lat.length;
  let work = 0;
  for (const [i, who] of [[0, 'alice'], [1, 'bob']]) {
    const d = (k) => ({ count: after[i][k].count - before[i][k].count, micros: after[i][k].micros - before[i][k].micros });
    const per = (k) => (d(k).micros / moves).toFixed(0);
    const commits = d('commit').count;
    const writes = after[i].storeWrites - before[i].storeWrites;
    for (const k of ['evm', 'sign', 'recover', 'commit']) work += d(k).micros / moves;
    L.log(`  ${who} per move: EVM ${per('evm')} us, sign ${per('sign')} us, recover ${per('recover')} us,` +
      ` LMDB commit ${per('commit')} us (${commits} commits, ${(writes / Math.max(1, commits)).toFixed(1)} writes each,` +
      ` ${(d('commit').micros / Math.max(1, commits)).toFixed(0)} us each);` +
      ` chain polls ${(d('chainPoll').micros / 1000).toFixed(1)} ms in ${d('chainPoll').count}`);
  }
  const mean = lat.reduce((a, b) => a + b, 0) / moves * 1000;
  if (solo) {
    L.log(`  mean round trip ${mean.toFixed(0)} us = both nodes' EVM, signing, recovery and commits ${work.toFixed(0)} us` +
      ` + network, HTTP API and thread hand-offs ${(mean - work).toFixed(0)} us`);
  } else {
    L.log(`  mean round trip ${mean.toFixed(0)} us, mostly waiting behind the other channels' moves`);
  }
}
function cpuReport(before, after, moves) {
  const us = (i) => ((after[i] - before[i]) / moves * 1e6).toFixed(0);
  L.log(`  CPU per move: alice's node ${us(0)} us, bob's node ${us(1)} us, this driver (HTTP clients) ${us(2)} us`);
}

// BENCH_PERF=DIR: records both nodes with `perf record` during a phase (a profile, not a figure).
const cp = require('child_process');
function perfStart(alice, bob, name) {
  if (!process.env.BENCH_PERF) return null;
  const out = path.join(process.env.BENCH_PERF, `${name}.data`);
  const p = cp.spawn('perf', ['record', '-q', '-F', '2000', '-g', '-o', out, '-p', `${alice.proc.pid},${bob.proc.pid}`],
    { stdio: 'ignore' });
  return new Promise((r) => setTimeout(() => r(p), 500));
}
async function perfStop(p) {
  if (!p) return;
  const done = new Promise((r) => p.on('exit', r));
  process.kill(p.pid, 'SIGINT');
  await done;
}

function pct(a, p) {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))];
}
function report(label, lat, wallMs) {
  L.log(`${label}: ${lat.length} moves in ${(wallMs / 1000).toFixed(2)} s = ${(lat.length / wallMs * 1000).toFixed(0)} moves/s;` +
    ` round trip p50 ${pct(lat, 50).toFixed(2)} ms, p99 ${pct(lat, 99).toFixed(2)} ms, max ${pct(lat, 100).toFixed(2)} ms`);
}

async function openMany(alice, bob, d, n) {
  const out = [];
  const batch = 8; // concurrent `bp open`s; the opener's wallet orders its nonces
  for (let i = 0; i < n; i += batch) {
    const k = Math.min(batch, n - i);
    const got = await Promise.all(Array.from({ length: k }, () =>
      L.openChannel(alice, bob, d, { deposit: '1000', peerDeposit: '1000' })));
    for (const g of got) out.push(g.channel);
  }
  return out;
}

(async () => {
  const tmp = L.setup('bench-channel');
  const d = await L.devnetUp();
  const alice = new L.Player('alice', d.accounts[1], d);
  const bob = new L.Player('bob', d.accounts[2], d);
  await alice.init(); await bob.init();
  await alice.start(); await bob.start();
  for (const p of [alice, bob]) p.token = fs.readFileSync(path.join(p.dir, 'api.token'), 'utf8').trim();
  L.log(`# ${SOLO} channels one at a time, then ${N} at once (${ROUNDS} rounds: ${N * ROUNDS} channels); ` +
    `one drawn TicTacToe game (9 moves) each; work dir ${tmp}`);

  let t = Date.now();
  const solo = await openMany(alice, bob, d, SOLO);
  const many = await openMany(alice, bob, d, N * ROUNDS);
  L.log(`# opened ${SOLO + N * ROUNDS} channels in ${((Date.now() - t) / 1000).toFixed(1)} s (on-chain open + deposits)`);

  // 1 channel at a time: sequential moves, one API client.
  const lat1 = [];
  // Idle baseline: CPU the nodes use with no moves. Right after the opens the
  // nodes stay busy for a while (seen: ~60% CPU each for some seconds), so the
  // phases start only once both are quiet (or after 20 s), and say when.
  const pi = await perfStart(alice, bob, 'idle');
  const tq = Date.now();
  for (let k = 0; k < 20; k++) {
    const i0 = cpuAll(alice, bob);
    await L.sleep(1000);
    const i1 = cpuAll(alice, bob);
    const pa = (i1[0] - i0[0]) * 100, pb = (i1[1] - i0[1]) * 100;
    L.log(`idle second ${k + 1} after the opens: alice ${pa.toFixed(0)}% CPU, bob ${pb.toFixed(0)}% CPU`);
    if (pa < 5 && pb < 5) break;
  }
  L.log(`# nodes quiet after ${((Date.now() - tq) / 1000).toFixed(0)} s`);
  await perfStop(pi);
  // The control API alone: a status call goes HTTP → loop → HTTP like a move,
  // without the peer, the EVM or the store.
  const latApi = [];
  for (let k = 0; k < 200; k++) {
    const t0 = process.hrtime.bigint();
    const r = await post(alice, '/v1/status', { channel: solo[0] });
    if (r.status !== 200) throw new Error(`status: HTTP ${r.status}`);
    latApi.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  L.log(`API round trip alone (bp status of one channel): p50 ${(pct(latApi, 50) * 1000).toFixed(0)} us, ` +
    `mean ${(latApi.reduce((a, b) => a + b, 0) / latApi.length * 1000).toFixed(0)} us`);
  let pf = await perfStart(alice, bob, 'solo');
  let c0 = cpuAll(alice, bob);
  let m0 = await metricsAll(alice, bob);
  t = Date.now();
  for (const ch of solo) await playGame(alice, bob, ch, lat1);
  let wall = Date.now() - t;
  report('1 channel ', lat1, wall);
  cpuReport(c0, cpuAll(alice, bob), lat1.length);
  splitReport(m0, await metricsAll(alice, bob), lat1, true);
  await perfStop(pf);

  // N channels at once: N concurrent API clients (keep-alive).
  const latN = [];
  pf = await perfStart(alice, bob, 'many');
  c0 = cpuAll(alice, bob);
  m0 = await metricsAll(alice, bob);
  t = Date.now();
  const lanes = Array.from({ length: N }, (_, i) => many.filter((_, j) => j % N === i));
  await Promise.all(lanes.map(async (lane) => { for (const ch of lane) await playGame(alice, bob, ch, latN); }));
  wall = Date.now() - t;
  report(`${N} channels`, latN, wall);
  cpuReport(c0, cpuAll(alice, bob), latN.length);
  splitReport(m0, await metricsAll(alice, bob), latN, false);
  await perfStop(pf);

  const ra = await alice.stop(), rb = await bob.stop();
  L.check('both nodes stopped cleanly', ra === 0 && rb === 0, `${ra} ${rb}`);
  L.finish();
})();
