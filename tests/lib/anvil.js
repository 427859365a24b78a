// Shared by the JS tests that need a live anvil: a free port, the pinned
// anvil started on 127.0.0.1 with --hardfork cancun, a wait until it answers,
// a JSON-RPC helper, and a kill by PID on every exit path.
// CommonJS so that both the .js tests (require) and .mjs tests (import) use it.
'use strict';
const { spawn } = require('child_process');
const net = require('net');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A port the kernel just handed out on 127.0.0.1 (anvil binds it right after).
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Posts one JSON-RPC request object (or a batch array) and returns the parsed
// response body as is, errors included.
async function rpcRaw(url, body) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return res.json();
}

// Calls method(params) and returns its result; a JSON-RPC error throws.
let rpcId = 0;
async function rpc(url, method, params) {
  const body = await rpcRaw(url, { jsonrpc: '2.0', id: ++rpcId, method, params });
  if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

// The running anvil (one per test process) and the exit hooks that stop it.
let proc = null;
let hooked = false;

function stop() {
  if (proc && proc.exitCode === null && proc.signalCode === null) {
    try {
      process.kill(proc.pid, 'SIGKILL');
    } catch (_) { /* already gone */ }
  }
  proc = null;
}

function hookExit() {
  if (hooked) return;
  hooked = true;
  process.on('exit', stop);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      stop();
      process.exit(1);
    });
  }
}

// Starts anvilPath and resolves to its URL once ready(url) resolves true.
// opts.args: extra anvil arguments (after the port).
// opts.attempts: fresh ports to try (a port can be taken between freePort
//   and anvil's bind); opts.ready: default "eth_chainId answers".
// opts.beforeSpawn: called before each spawn (e.g. to clear an output file).
// Each attempt polls 100 times, 100 ms apart, while anvil is alive.
async function start(anvilPath, opts = {}) {
  const attempts = opts.attempts || 1;
  const ready = opts.ready || (async (url) => {
    await rpc(url, 'eth_chainId', []);
    return true;
  });
  hookExit();
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    if (opts.beforeSpawn) opts.beforeSpawn();
    proc = spawn(anvilPath, ['--hardfork', 'cancun', '--host', '127.0.0.1', '--port', String(port),
      ...(opts.args || [])], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d) => { stderr += d; });
    for (let i = 0; i < 100 && proc.exitCode === null; i++) {
      try {
        if (await ready(url)) return url;
      } catch (_) { /* not up yet */ }
      await sleep(100);
    }
    stop();
    console.error(`anvil did not come up on port ${port}: ${stderr.trim()}`);
  }
  throw new Error('could not start anvil');
}

module.exports = { freePort, rpcRaw, rpc, start, stop, sleep };
