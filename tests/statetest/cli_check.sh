#!/bin/sh
# Checks the output contract of `bp evm run` and `bp statetest` (DESIGN.md §7).
# usage: cli_check.sh BP DATA_DIR
bp=$1
data=$2
fail() { echo "FAIL: $*"; exit 1; }

# PUSH1 1 PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN: 3+3+(3+3 memory)+3+3 = 18 gas.
out=$("$bp" evm run --code 600160005260206000f3 --json) || fail "evm run exit code"
want='{"output": "0x0000000000000000000000000000000000000000000000000000000000000001", "gasUsed": 18, "status": "success"}'
[ "$out" = "$want" ] || fail "evm run: got $out"
# PUSH1 0 PUSH1 0 REVERT: 6 gas; INVALID: all gas.
out=$("$bp" evm run --code 0x60006000fd --json) || fail "evm run revert exit code"
[ "$out" = '{"output": "0x", "gasUsed": 6, "status": "revert"}' ] || fail "evm run revert: got $out"
out=$("$bp" evm run --code fe --gas 1000 --json) || fail "evm run halt exit code"
[ "$out" = '{"output": "0x", "gasUsed": 1000, "status": "halt"}' ] || fail "evm run halt: got $out"
"$bp" evm run --code 0xzz >/dev/null 2>&1 && fail "evm run accepted bad hex"

# Case 0 matches the fixture's root; case 1 (another value) cannot.
out=$("$bp" statetest "$data/transfer.json")
rc=$?
[ $rc -eq 1 ] || fail "statetest exit code $rc, want 1"
[ "$(echo "$out" | tail -n 1)" = "1 passed, 1 failed, 0 skipped" ] || fail "statetest summary: $out"
echo "$out" | grep -q "^FAIL .*transfer.json: transfer \[data 0, gas 0, value 1\]: state root: expected 0x0fe6bab2" ||
    fail "statetest failure line: $out"
out=$("$bp" statetest --filter nosuchtest "$data")
[ $? -eq 0 ] && [ "$out" = "0 passed, 0 failed, 0 skipped" ] || fail "statetest filter: $out"
echo ok
