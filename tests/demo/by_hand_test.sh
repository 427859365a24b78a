#!/usr/bin/env bash
# Runs the README's "Playing by hand with two terminals" commands, exactly as
# written there (every ```sh block after a `<!-- by-hand -->` line), against a
# devnet of its own: only the folder (/tmp/bp-play), the build folder
# ($PWD/build) and the four ports are replaced. Then checks what they did.
#
#   by_hand_test.sh SOURCE_ROOT BUILD_ROOT
set -euo pipefail
src=$1
build=$2
cd "$src"
[ -x "$build/node/bp" ] || { echo "no $build/node/bp"; exit 1; }
[ -x node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil ] || {
  echo "SKIP: anvil is not installed (run scripts/setup)"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bp-byhand.XXXXXX")
play="$tmp/play"
export HOME="$tmp/home" BP_BUILD="$build" # the API token registry lives in $HOME
mkdir -p "$HOME"
unset BP_DATADIR

cleanup() {
  local rc=$?
  for who in alice bob; do
    local f="$play/$who.pid"
    if [ -f "$f" ]; then
      local p
      p=$(cat "$f")
      if [ -r "/proc/$p/cmdline" ] && tr '\0' ' ' <"/proc/$p/cmdline" | grep -q " node --datadir $play/"; then
        kill -KILL "$p" 2>/dev/null || true
      fi
    fi
  done
  scripts/devnet down "$play" >/dev/null 2>&1 || true
  if [ "$rc" -eq 0 ]; then rm -rf "$tmp"; else echo "kept $tmp (out.txt, play/*.log)"; fi
  exit "$rc"
}
trap cleanup EXIT

ports=()
for _ in 1 2 3 4; do
  ports+=("$(node -e 'const s = require("net").createServer();
    s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')")
done

# The blocks, in order, one file each.
awk -v dir="$tmp" '
  /^<!-- by-hand -->$/ { want = 1; next }
  want && /^```sh$/ { n++; file = sprintf("%s/block%02d.sh", dir, n); inblock = 1; want = 0; next }
  inblock && /^```$/ { inblock = 0; close(file); next }
  inblock { print > file }
' README.md
blocks=("$tmp"/block*.sh)
[ ${#blocks[@]} -ge 8 ] || { echo "found only ${#blocks[@]} by-hand blocks in README.md"; exit 1; }
for f in "${blocks[@]}"; do
  sed -i -e "s#/tmp/bp-play#$play#g" -e "s#\\\$PWD/build/#$build/#g" \
    -e "s#9701#${ports[0]}#g" -e "s#9702#${ports[1]}#g" \
    -e "s#9711#${ports[2]}#g" -e "s#9712#${ports[3]}#g" "$f"
done
last=${blocks[${#blocks[@]}-1]}
grep -q 'devnet down' "$last" || { echo "the last by-hand block should stop everything"; exit 1; }

# All but the last block in one shell (what the two terminals do, in order).
{
  echo 'set -euo pipefail'
  for f in "${blocks[@]}"; do [ "$f" = "$last" ] || { echo "echo '--- ${f##*/}'"; cat "$f"; }; done
  echo "bp status --api 127.0.0.1:${ports[2]} \$CH --json > $tmp/final.json"
  echo "bp call --api 127.0.0.1:${ports[2]} \$CH 'winner()(uint8)' > $tmp/winner.txt"
  echo "echo \$CH > $tmp/ch.txt"
} >"$tmp/run.sh"
cd "$src"
if ! timeout 240 bash "$tmp/run.sh" >"$tmp/out.txt" 2>&1; then
  cat "$tmp/out.txt"
  echo "the by-hand commands failed"
  exit 1
fi
cat "$tmp/out.txt"

fail() { echo "FAIL: $*"; exit 1; }
grep -qx '\[2,0,0,0,1,0,0,0,0\]' "$tmp/out.txt" || fail "bp call board() did not print [2,0,0,0,1,0,0,0,0]"
check=$(node -e '
  const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const bad = [];
  if (s.channel !== process.argv[2]) bad.push("channel " + s.channel);
  if (s.state !== "concluded") bad.push("state " + s.state);
  if (s.isFinal !== true) bad.push("not final");
  // alice 4, bob 0, then close: an unfinished game splits the pot of 2 ether
  if (s.payouts[0] !== "1000000000000000000" || s.payouts[1] !== "1000000000000000000") bad.push("payouts " + s.payouts);
  if (s.nonce < 3) bad.push("nonce " + s.nonce + " (2 moves and a close)");
  console.log(bad.join("; "));' "$tmp/final.json" "$(cat "$tmp/ch.txt")")
[ -z "$check" ] || fail "alice's final status: $check"
[ "$(cat "$tmp/winner.txt")" = 0 ] || fail "winner() is $(cat "$tmp/winner.txt"), expected 0 (no winner)"
echo "checked: board, final breakpoint (1 ether each), channel concluded"

# The adjudicator agrees: closed (status 4).
rpc=$(node -p "require('$play/devnet.json').rpc")
adj=$(node -p "require('$play/devnet.json').adjudicator")
data=$(node -e 'const { ethers } = require(process.argv[2]);
  console.log(new ethers.Interface(["function state(bytes32) view returns (uint8,uint64,uint64)"])
    .encodeFunctionData("state", [process.argv[1]]));' "$(cat "$tmp/ch.txt")" "$src/node_modules/ethers")
res=$(curl -sS -H 'Content-Type: application/json' \
  --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_call\",\"params\":[{\"to\":\"$adj\",\"data\":\"$data\"},\"latest\"]}" "$rpc")
status=$(node -e 'const r = JSON.parse(process.argv[1]).result; console.log(Number(BigInt(r.slice(0, 66))));' "$res")
[ "$status" = 4 ] || fail "the adjudicator's status of the channel is $status, expected 4 (closed)"
echo "checked: the adjudicator says closed"

# The last block stops everything.
pids="$(cat "$play/alice.pid") $(cat "$play/bob.pid")"
anvil_pid=$(cat "$play/anvil.pid")
(export PATH="$build/node:$PATH" PLAY="$play"; bash -e "$last")
sleep 1
for p in $pids $anvil_pid; do
  if kill -0 "$p" 2>/dev/null && ! grep -q Z "/proc/$p/stat" 2>/dev/null; then fail "PID $p still runs after the README's stop block"; fi
done
echo "checked: the stop block stops both nodes and the devnet"
