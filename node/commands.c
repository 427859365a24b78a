/* The table of `bp` subcommands. One line per command; usage text beside it. */
#include "cli.h"

const struct cli_command cli_commands[] = {
    {"node", "run a player's node (the daemon)", NULL, cmd_node},
    {"open", "open a channel with a peer (on-chain open + deposit)",
     "usage: bp open --api HOST:PORT --peer ADDR@tcp://HOST:PORT --app ADDR\n"
     "               --deposit AMOUNT --peer-deposit AMOUNT [--init-args HEX]\n"
     "               [--challenge-period S] [--datadir DIR] [--timeout S] [--json]\n\n"
     "Opens a channel on the adjudicator with your deposit; the peer's node deposits\n"
     "once breakpoint 0 carries both signatures. AMOUNT: wei, or with a unit (1ether, 5gwei).\n"
     "Prints the channel id as its last line.\n", cmd_open},
    {"move", "make a move (a call into the app), signed by both players",
     "usage: bp move --api HOST:PORT CHANNEL 'play(uint8)' ARGS... [--json]\n\n"
     "Runs the call on both nodes; returns once the new breakpoint carries both\n"
     "signatures, or fails with the peer's reason and changes nothing.\n", cmd_move},
    {"call", "read from the channel's app (no state change)",
     "usage: bp call --api HOST:PORT CHANNEL 'board()(uint8[9])' [ARGS...] [--json]\n", cmd_call},
    {"status", "show one channel or all of them",
     "usage: bp status --api HOST:PORT [CHANNEL] [--json]\n", cmd_status},
    {"close", "agree with the peer to close now, and conclude on-chain",
     "usage: bp close --api HOST:PORT CHANNEL [--json]\n", cmd_close},
    {"challenge", "register the latest breakpoint on-chain (dispute)",
     "usage: bp challenge --api HOST:PORT CHANNEL [--json]\n", cmd_challenge},
    {"settle", "pay out a challenged channel after its deadline",
     "usage: bp settle --api HOST:PORT CHANNEL [--json]\n", cmd_settle},
    {"deploy", "deploy a contract with a locally signed transaction",
     "usage: bp deploy --eth URL --key-file F (--artifact JSON | --code HEX) [--args HEX] [--json]\n\n"
     "Signs an EIP-1559 contract creation with the key in F (hex), sends it to the\n"
     "JSON-RPC node at URL, waits for the receipt and prints the contract address.\n"
     "--artifact takes a compiler artifact (\"bytecode\" or solc's evm.bytecode.object);\n"
     "--args is appended to the init code (ABI-encoded constructor arguments).\n", cmd_deploy},
    {"keygen", "create (or import) the node's key, stored encrypted in the datadir",
     "usage: bp keygen --datadir DIR --password-file F [--import HEXKEYFILE] [--json]\n"
     "       bp keygen --datadir DIR --password-file F --address [--json]\n\n"
     "Creates DIR (mode 0700) if needed and stores a new secp256k1 private key in\n"
     "DIR/keystore (mode 0600), encrypted with Argon2id + XChaCha20-Poly1305 under the\n"
     "password in F (one trailing newline is ignored). --import takes the key from a\n"
     "file holding 64 hex digits (optional 0x) instead of generating one.\n"
     "Never overwrites an existing key. Prints the key's EIP-55 address\n"
     "(--json: {\"address\": \"0x...\"}).\n"
     "--address: decrypt the existing key (checking the password) and print its address.\n",
     cmd_keygen},
    {"evm", "run EVM bytecode in a fresh in-memory world",
     "usage: bp evm run (--code HEX | --code-file F) [--input HEX] [--gas N] [--json]\n\n"
     "Runs the code as the callee (0x2000..02) of a call from a fixed sender (0x1000..01),\n"
     "Cancun rules, default gas 30000000. Prints the output, the execution gas used\n"
     "(no intrinsic gas, before refunds) and the status: success, revert or halt.\n", cmd_evm},
    {"statetest", "run official Ethereum state tests (Cancun)",
     "usage: bp statetest PATH... [--fork Cancun] [--filter TEXT] [--json]\n\n"
     "Runs state-test JSON files, or every *.json below a folder. Prints each failing\n"
     "case (file, test, data/gas/value indexes, what differed) and ends with\n"
     "\"N passed, M failed, K skipped\" (KZG point-evaluation cases are skipped).\n"
     "--filter runs only tests whose name contains TEXT. Exit 0 only if none failed.\n",
     cmd_statetest},
    {"debug", "read-only dumps for tests and debugging",
     "usage: bp debug dump --datadir DIR\n\n"
     "Prints a stopped node's store as JSON: its channels, every breakpoint record\n"
     "(EIP-712 digest, signatures, move) and the table of its own signatures.\n", cmd_debug},
    {"version", "print the version", "usage: bp version [--json]\n", cmd_version},
    {0},
};
