#!/bin/bash
# bp keygen end to end: create, refuse to overwrite, wrong password, import of
# the anvil/hardhat key 0, file modes, JSON output. Usage: keygen_test.sh BP
set -u
BP=${1:?usage: keygen_test.sh path/to/bp}
T=$(mktemp -d /tmp/bp-keygen-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

printf 'pass word\n' > "$T/pw"
printf 'other\n' > "$T/bad"
printf '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\n' > "$T/anvil.hex"

# 1. A new key: an EIP-55 address on stdout, nothing else.
out=$("$BP" keygen --datadir "$T/new" --password-file "$T/pw" 2>"$T/err") || fail "keygen failed: $(cat "$T/err")"
[[ $out =~ ^0x[0-9a-fA-F]{40}$ ]] || fail "not an address: '$out'"
[[ $out =~ [a-f] && $out =~ [A-F] ]] || echo "note: address has no mixed case (rare but valid): $out"
[ "$(stat -c %a "$T/new/keystore")" = 600 ] || fail "key file mode $(stat -c %a "$T/new/keystore")"
[ "$(stat -c %a "$T/new")" = 700 ] || fail "datadir mode $(stat -c %a "$T/new")"
# --address decrypts it back to the same address.
again=$("$BP" keygen --datadir "$T/new" --password-file "$T/pw" --address 2>&1) || fail "--address: $again"
[ "$again" = "$out" ] || fail "--address gave '$again', keygen gave '$out'"

# 2. Never overwrite: the file is byte-identical afterwards.
sum=$(sha256sum < "$T/new/keystore")
if "$BP" keygen --datadir "$T/new" --password-file "$T/pw" >"$T/out" 2>"$T/err"; then
    fail "second keygen on the same datadir succeeded"
fi
grep -q "already holds a key" "$T/err" || fail "overwrite message: $(cat "$T/err")"
[ ! -s "$T/out" ] || fail "refused keygen printed to stdout: $(cat "$T/out")"
[ "$(sha256sum < "$T/new/keystore")" = "$sum" ] || fail "key file changed"
if "$BP" keygen --datadir "$T/new" --password-file "$T/pw" --import "$T/anvil.hex" 2>/dev/null; then
    fail "import over an existing key succeeded"
fi

# 3. Wrong password: a clear error, non-zero exit, nothing on stdout.
if "$BP" keygen --datadir "$T/new" --password-file "$T/bad" --address >"$T/out" 2>"$T/err"; then
    fail "wrong password accepted"
fi
grep -q "wrong password" "$T/err" || fail "wrong-password message: $(cat "$T/err")"
[ ! -s "$T/out" ] || fail "wrong password printed to stdout"

# 4. Import the anvil key: its well-known address, in text and JSON.
out=$("$BP" keygen --datadir "$T/anvil" --password-file "$T/pw" --import "$T/anvil.hex" 2>&1)
[ "$out" = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266" ] || fail "import printed '$out'"
[ "$(stat -c %a "$T/anvil/keystore")" = 600 ] || fail "imported key file mode"
out=$("$BP" keygen --datadir "$T/anvil" --password-file "$T/pw" --address --json 2>&1)
[ "$out" = '{"address": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"}' ] || fail "--address --json: '$out'"
out=$("$BP" keygen --datadir "$T/json" --password-file "$T/pw" --import "$T/anvil.hex" --json 2>&1)
[ "$out" = '{"address": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"}' ] || fail "--json: '$out'"

# 5. Bad input: clear errors, no key written.
printf '0x1234\n' > "$T/short.hex"
"$BP" keygen --datadir "$T/s" --password-file "$T/pw" --import "$T/short.hex" 2>"$T/err" && fail "short key accepted"
grep -q "not a hex private key" "$T/err" || fail "short key message: $(cat "$T/err")"
printf '%064d\n' 0 > "$T/zero.hex"
"$BP" keygen --datadir "$T/z" --password-file "$T/pw" --import "$T/zero.hex" 2>"$T/err" && fail "zero key accepted"
grep -q "not a valid secp256k1 private key" "$T/err" || fail "zero key message: $(cat "$T/err")"
[ ! -e "$T/z/keystore" ] && [ ! -e "$T/s/keystore" ] || fail "a key was written for bad input"
: > "$T/empty"
"$BP" keygen --datadir "$T/e" --password-file "$T/empty" 2>"$T/err" && fail "empty password accepted"
grep -q "non-empty password" "$T/err" || fail "empty password message: $(cat "$T/err")"
"$BP" keygen --datadir "$T/m" --password-file "$T/missing" 2>"$T/err" && fail "missing password file accepted"
grep -q "no such file" "$T/err" || fail "missing password file message: $(cat "$T/err")"
"$BP" keygen --password-file "$T/pw" 2>"$T/err" && fail "missing --datadir accepted"
grep -q -- "--datadir DIR is required" "$T/err" || fail "missing --datadir message: $(cat "$T/err")"

# 6. Two generated keys differ.
a=$("$BP" keygen --datadir "$T/r1" --password-file "$T/pw")
b=$("$BP" keygen --datadir "$T/r2" --password-file "$T/pw")
[ "$a" != "$b" ] || fail "two generated keys have the same address $a"

if [ $fails -ne 0 ]; then echo "$fails failure(s)"; exit 1; fi
echo "keygen: all checks passed"
