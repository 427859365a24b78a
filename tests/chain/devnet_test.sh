#!/usr/bin/env bash
# scripts/devnet end to end: up (anvil + both contracts deployed by `bp deploy`),
# devnet.json as documented, code at both addresses, down stops exactly that PID,
# and down again is a no-op.
# Usage: devnet_test.sh SOURCE_ROOT BUILD_ROOT
set -euo pipefail
src=$1
build=$2
export BP_BUILD=$build
tmp=$(mktemp -d /tmp/bp-devnet-test-XXXXXX)
cleanup() { "$src/scripts/devnet" down "$tmp" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "devnet_test: FAIL: $*" >&2; exit 1; }

"$src/scripts/devnet" up "$tmp"
[ -f "$tmp/devnet.json" ] || fail "no devnet.json"
[ -f "$tmp/anvil.pid" ] || fail "no anvil.pid"
pid=$(cat "$tmp/anvil.pid")
kill -0 "$pid" 2>/dev/null || fail "anvil (PID $pid) is not running"
tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- '--hardfork cancun' || fail "anvil runs without --hardfork cancun"

# The file's shape, each key deriving its address (ethers), and code at both contracts.
BP_NODE_MODULES="$src/node_modules" node -e '
  const path = require("path");
  const { ethers } = require(path.join(process.env.BP_NODE_MODULES, "ethers"));
  const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const fail = (m) => { console.error("devnet_test: FAIL: " + m); process.exit(1); };
  if (!/^http:\/\/127\.0\.0\.1:[0-9]+$/.test(d.rpc)) fail("rpc " + d.rpc);
  if (d.chainId !== 31337) fail("chainId " + d.chainId);
  if (!ethers.isAddress(d.adjudicator) || !ethers.isAddress(d.tictactoe)) fail("contract addresses");
  if (d.adjudicator.toLowerCase() === d.tictactoe.toLowerCase()) fail("same address twice");
  if (!Array.isArray(d.accounts) || d.accounts.length !== 10) fail("accounts: " + JSON.stringify(d.accounts));
  for (const a of d.accounts)
    if (ethers.computeAddress(a.key) !== a.address) fail("key does not match " + a.address);
  (async () => {
    const p = new ethers.JsonRpcProvider(d.rpc, undefined, { staticNetwork: true });
    for (const addr of [d.adjudicator, d.tictactoe]) {
      const code = await p.getCode(addr);
      if (code.length <= 2) fail("no code at " + addr);
    }
    const bal = await p.getBalance(d.accounts[9].address);
    if (bal !== 10000n * 10n ** 18n) fail("account 9 balance " + bal);
    p.destroy();
  })().catch((e) => fail(String(e)));
' "$tmp/devnet.json"

"$src/scripts/devnet" down "$tmp"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "anvil (PID $pid) still running after down"
[ ! -f "$tmp/anvil.pid" ] || fail "anvil.pid left behind"
"$src/scripts/devnet" down "$tmp" || fail "second down failed"
echo "devnet_test: ok"
