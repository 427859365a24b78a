// Shared helpers of the node's integration/e2e drivers (tests/node/*.js).
// Each driver: its own devnet (scripts/devnet), its own datadirs in a temp
// dir, free ports, `bp node` processes killed by PID on every exit path.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const net = require('net');
const cp = require('child_process');

const ROOT = path.resolve(__dirname, '../..');
const BUILD = path.resolve(process.env.BP_BUILD || path.join(ROOT, 'build'));
const BP = path.join(BUILD, 'node', 'bp');
const DEVNET = path.join(ROOT, 'scripts', 'devnet');

let passed = 0, failed = 0;
const pids = new Set();
let tmp = null, devnetDir = null, keepTmp = !!process.env.BP_KEEP_TMP;

function log(...a) { console.log(...a); }

function check(what, ok, detail) {
  if (ok) { passed++; log(`ok   - ${what}`); }
  else { failed++; log(`FAIL - ${what}${detail !== undefined ? ': ' + detail : ''}`); }
  return !!ok;
}

function cleanup() {
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch (e) { /* gone */ } }
  pids.clear();
  if (devnetDir) {
    try { cp.execFileSync(DEVNET, ['down', devnetDir], { stdio: 'ignore', env: devEnv() }); } catch (e) { /* ignore */ }
    devnetDir = null;
  }
  if (tmp && !keepTmp && failed === 0) { try { fs.rmSync(tmp, { recursive: true, force: true }); } catch (e) { /* ignore */ } }
  else if (tmp) console.log(`(kept ${tmp})`);
  tmp = null;
}

function finish() {
  cleanup();
  log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

process.on('exit', () => { if (tmp || devnetDir || pids.size) cleanup(); });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { log(`killed by ${sig}`); failed++; finish(); });
process.on('uncaughtException', (e) => { log(`FAIL - exception: ${e && e.stack || e}`); failed++; finish(); });
process.on('unhandledRejection', (e) => { log(`FAIL - exception: ${e && e.stack || e}`); failed++; finish(); });

function devEnv() { return Object.assign({}, process.env, { BP_BUILD: BUILD }); }

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

async function rpc(url, method, params = []) {
  const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }), signal: AbortSignal.timeout(10000) });
  const j = await r.json();
  if (j.error) throw new Error(`${method}: ${JSON.stringify(j.error)}`);
  return j.result;
}

function setup(name) {
  if (!fs.existsSync(BP)) { console.log(`SKIP: ${BP} not built`); process.exit(77); }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), `bp-${name}-`));
  log(`# ${name}: work dir ${tmp}`);
  return tmp;
}

async function devnetUp() {
  devnetDir = path.join(tmp, 'devnet');
  // scripts/devnet can lose a race under load (it reads anvil.log before the
  // background anvil created it, see docs/COORDINATION.md): one more try.
  for (let attempt = 1; ; attempt++) {
    try {
      cp.execFileSync(DEVNET, ['up', devnetDir], { stdio: ['ignore', 'ignore', 'inherit'], env: devEnv() });
      break;
    } catch (e) {
      try { cp.execFileSync(DEVNET, ['down', devnetDir], { stdio: 'ignore', env: devEnv() }); } catch (x) { /* ignore */ }
      if (attempt >= 3) throw e;
      log(`# scripts/devnet up failed (attempt ${attempt}); retrying`);
    }
  }
  const d = JSON.parse(fs.readFileSync(path.join(devnetDir, 'devnet.json'), 'utf8'));
  d.anvilPid = Number(fs.readFileSync(path.join(devnetDir, 'anvil.pid'), 'utf8'));
  d.dir = devnetDir;
  return d;
}

// Runs `bp ARGS`; resolves {code, out, err, json} (json parsed if --json and parseable).
function bp(args, opts = {}) {
  return new Promise((resolve) => {
    cp.execFile(BP, args, { timeout: opts.timeout || 120000, env: nodeEnv(), maxBuffer: 1 << 24 },
      (e, out, err) => {
        let json = null;
        try { json = JSON.parse(out); } catch (x) { /* not JSON */ }
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, out, err, json });
      });
  });
}

function nodeEnv() {
  // SIGKILLed processes print no leak report, so leak detection stays on: a
  // leak at normal shutdown (SIGTERM) makes the node exit non-zero.
  return Object.assign({}, process.env);
}

// A player: datadir with an imported key, ports, and its node process.
class Player {
  constructor(name, account, devnet) {
    this.name = name;
    this.address = account.address;
    this.key = account.key;
    this.devnet = devnet;
    this.dir = path.join(tmp, name);
    this.proc = null;
    this.extra = [];
    this.starts = 0;
  }
  async init(extra = []) {
    this.extra = extra;
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.pwfile = path.join(tmp, `${this.name}.pw`);
    fs.writeFileSync(this.pwfile, `pw-${this.name}\n`, { mode: 0o600 });
    const kf = path.join(tmp, `${this.name}.key`);
    fs.writeFileSync(kf, this.key.replace(/^0x/, '') + '\n', { mode: 0o600 });
    const r = await bp(['keygen', '--datadir', this.dir, '--password-file', this.pwfile, '--import', kf]);
    if (r.code !== 0) throw new Error(`keygen ${this.name}: ${r.err}`);
    this.p2pPort = await freePort();
    this.apiPort = await freePort();
    this.api = `127.0.0.1:${this.apiPort}`;
    this.url = `tcp://127.0.0.1:${this.p2pPort}`;
    this.logFile = path.join(tmp, `${this.name}.log`);
  }
  args() {
    return ['node', '--datadir', this.dir, '--password-file', this.pwfile, '--eth', this.devnet.rpc,
      '--adjudicator', this.devnet.adjudicator, '--listen', this.url, '--api', this.api, '--poll-ms', '200',
      ...this.extra];
  }
  async start(waitReady = true) {
    const fd = fs.openSync(this.logFile, 'a');
    fs.writeSync(fd, `--- start ${++this.starts} at ${new Date().toISOString()}\n`);
    const p = cp.spawn(BP, this.args(), { stdio: ['ignore', fd, fd], env: Object.assign(nodeEnv(), this.env || {}) });
    fs.closeSync(fd);
    this.proc = p;
    pids.add(p.pid);
    p.exited = new Promise((res) => p.on('exit', (code, sig) => { pids.delete(p.pid); p.exitCode_ = code; p.exitSig = sig; res(); }));
    if (waitReady) {
      for (let i = 0; i < 200; i++) {
        const r = await this.status(null, 3);
        if (r.code === 0) return;
        if (p.exitCode_ !== undefined || p.exitSig) throw new Error(`${this.name}'s node exited: ${this.tail()}`);
        await sleep(100);
      }
      throw new Error(`${this.name}'s node did not come up: ${this.tail()}`);
    }
  }
  async kill(sig = 'SIGKILL') {
    if (!this.proc) return;
    const p = this.proc;
    try { process.kill(p.pid, sig); } catch (e) { /* gone */ }
    if (sig === 'SIGKILL' || sig === 'SIGTERM' || sig === 'SIGINT') { await p.exited; this.proc = null; }
  }
  async stop() { // graceful, returns the exit code
    if (!this.proc) return 0;
    const p = this.proc;
    try { process.kill(p.pid, 'SIGTERM'); } catch (e) { /* already gone */ }
    const t = setTimeout(() => { try { process.kill(p.pid, 'SIGKILL'); } catch (e) { /* gone */ } }, 15000);
    await p.exited;
    clearTimeout(t);
    this.proc = null;
    return p.exitCode_ === null ? -1 : p.exitCode_;
  }
  tail(n = 15) {
    try { return fs.readFileSync(this.logFile, 'utf8').trim().split('\n').slice(-n).join('\n'); } catch (e) { return ''; }
  }
  logText() { try { return fs.readFileSync(this.logFile, 'utf8'); } catch (e) { return ''; } }
  cmd(name, args = [], timeout) {
    return bp([name, '--api', this.api, '--datadir', this.dir, ...args], { timeout });
  }
  async status(channel, timeoutS) {
    const a = ['--json'];
    if (timeoutS) a.push('--timeout', String(timeoutS));
    if (channel) a.push(channel);
    return this.cmd('status', a);
  }
  move(channel, cell, timeoutS = 30) {
    return this.cmd('move', ['--json', '--timeout', String(timeoutS), channel, 'play(uint8)', String(cell)]);
  }
}

// Waits until fn() resolves truthy; returns its value or null after ms.
async function waitFor(fn, ms = 30000, every = 200) {
  const end = Date.now() + ms;
  for (;;) {
    let v = null;
    try { v = await fn(); } catch (e) { v = null; }
    if (v) return v;
    if (Date.now() > end) return null;
    await sleep(every);
  }
}

async function balance(d, addr) { return BigInt(await rpc(d.rpc, 'eth_getBalance', [addr, 'latest'])); }

// Every transaction sent by addr from block `from` on: {hash, to, input, gasCost}.
async function txsFrom(d, addr, from) {
  const head = Number(await rpc(d.rpc, 'eth_blockNumber'));
  const out = [];
  for (let b = from; b <= head; b++) {
    const blk = await rpc(d.rpc, 'eth_getBlockByNumber', ['0x' + b.toString(16), true]);
    for (const tx of blk.transactions) {
      if (tx.from.toLowerCase() !== addr.toLowerCase()) continue;
      const rc = await rpc(d.rpc, 'eth_getTransactionReceipt', [tx.hash]);
      out.push({ hash: tx.hash, to: tx.to, input: tx.input, value: BigInt(tx.value), status: rc.status,
        gasCost: BigInt(rc.gasUsed) * BigInt(rc.effectiveGasPrice), block: b });
    }
  }
  return out;
}

// Adjudicator events of a channel (topics[1] = channel id).
const TOPICS = {};
function topic(sig) {
  if (!TOPICS[sig]) {
    const { ethers } = require(path.join(ROOT, 'node_modules', 'ethers'));
    TOPICS[sig] = ethers.id(sig);
  }
  return TOPICS[sig];
}
const EV = {
  Opened: 'Opened(bytes32,address,bytes32,address[2],uint256[2],bytes,uint64,bytes32)',
  Deposited: 'Deposited(bytes32,address,uint256,uint256)',
  Challenged: 'Challenged(bytes32,uint64,uint64)',
  Concluded: 'Concluded(bytes32,uint64)',
  Settled: 'Settled(bytes32,uint64)',
};
async function events(d, name, channel) {
  const logs = await rpc(d.rpc, 'eth_getLogs', [{ fromBlock: '0x0', toBlock: 'latest', address: d.adjudicator,
    topics: channel ? [topic(EV[name]), channel] : [topic(EV[name])] }]);
  return logs.map((l) => {
    const words = (l.data.slice(2).match(/.{64}/g) || []).map((w) => BigInt('0x' + w));
    return { block: Number(l.blockNumber), tx: l.transactionHash, words };
  });
}

// adjudicator.state(id) -> {status, nonce, deadline}
async function chanState(d, channel) {
  const { ethers } = require(path.join(ROOT, 'node_modules', 'ethers'));
  const data = ethers.id('state(bytes32)').slice(0, 10) + channel.slice(2);
  const r = await rpc(d.rpc, 'eth_call', [{ to: d.adjudicator, data }, 'latest']);
  const w = r.slice(2).match(/.{64}/g).map((x) => BigInt('0x' + x));
  return { status: Number(w[0]), nonce: Number(w[1]), deadline: Number(w[2]) };
}

// Opens a channel alice→bob (both nodes running) and waits for "open" on both.
async function openChannel(alice, bob, d, opts = {}) {
  const args = ['--json', '--peer', `${bob.address}@${bob.url}`, '--app', d.tictactoe,
    '--deposit', opts.deposit || '1ether', '--peer-deposit', opts.peerDeposit || '1ether'];
  if (opts.period) args.push('--challenge-period', String(opts.period));
  const r = await alice.cmd('open', args);
  if (r.code !== 0 || !r.json || !r.json.channel) throw new Error(`open failed: ${r.err}${r.out}`);
  const ch = r.json.channel;
  const ok = await waitFor(async () => {
    const a = await alice.status(ch), b = await bob.status(ch);
    return a.json && b.json && a.json.state === 'open' && b.json.state === 'open';
  }, 60000);
  if (!ok) throw new Error(`channel did not become open on both nodes:\n${alice.tail()}\n--\n${bob.tail()}`);
  return { channel: ch, open: r.json };
}

// TicTacToe games: cells in order, X = players[0] (alice) first.
const GAMES = {
  xWins: [0, 3, 1, 4, 2],                 // X takes the top row
  oWins: [0, 3, 1, 4, 8, 5],              // O takes the middle row
  draw: [0, 1, 2, 4, 3, 5, 7, 6, 8],      // X O X / X O O / O X X
};

// alice (anvil account 1) and bob (account 2): keys imported, both nodes
// running. A peer timeout of null leaves the node's default.
async function twoPlayers(d, aliceTimeout = '600', bobTimeout = '600') {
  const alice = new Player('alice', d.accounts[1], d);
  const bob = new Player('bob', d.accounts[2], d);
  await alice.init(aliceTimeout === null ? [] : ['--peer-timeout', aliceTimeout]);
  await bob.init(bobTimeout === null ? [] : ['--peer-timeout', bobTimeout]);
  await alice.start();
  await bob.start();
  return { alice, bob };
}

module.exports = { ROOT, BUILD, BP, log, check, finish, cleanup, sleep, freePort, rpc, setup, devnetUp, bp,
  Player, twoPlayers, waitFor, balance, txsFrom, events, chanState, openChannel, GAMES, topic, nodeEnv };
