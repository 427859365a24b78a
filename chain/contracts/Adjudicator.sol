// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title The breakpoint adjudicator (DESIGN.md §2-4, docs/contracts.md).
/// @notice Holds the two deposits of each channel and pays them out once: at
/// once for a final breakpoint signed by both players (conclude), or after a
/// challenge period in which the highest-nonce signed breakpoint wins
/// (challenge, settle).
/// @dev One storage slot per channel: the parameters are passed in calldata
/// (Params) after open() and checked against the channel id, which commits to
/// all of them.
// Slot layout (bit 0 = least significant; docs/contracts.md), "x:n at b" = n bits from bit b:
//   opened:     1 | openedAt:40 at 8 | deposits[0]:88 at 48 | top 120 bits of keccak(players[1], deposits[1]) at 136
//   funded:     2
//   challenged: 3 | nonce:64 at 8 | deadline:64 at 72 | payouts[0]:120 at 136
//   closed:     4 (never cleared, so a channel id can never be reused)
contract Adjudicator {
    struct Params {
        address app;
        bytes32 codeHash;
        address[2] players;
        uint256[2] deposits;
        bytes32 initArgsHash;
        uint64 challengePeriod;
        bytes32 salt;
    }

    struct Breakpoint {
        bytes32 channelId;
        uint64 nonce;
        bytes32 stateRoot;
        bytes32 moveHash;
        uint256[] payouts;
        bool isFinal;
    }

    event Opened(
        bytes32 indexed channelId,
        address app,
        bytes32 codeHash,
        address[2] players,
        uint256[2] deposits,
        bytes initArgs,
        uint64 challengePeriod,
        bytes32 salt
    );
    event Deposited(bytes32 indexed channelId, address indexed player, uint256 amount, uint256 total);
    event Challenged(bytes32 indexed channelId, uint64 nonce, uint64 deadline);
    event Concluded(bytes32 indexed channelId, uint64 nonce);
    event Settled(bytes32 indexed channelId, uint64 nonce);
    event Reclaimed(bytes32 indexed channelId, uint256 amount);
    event Credited(address indexed recipient, uint256 amount);
    event Withdrawn(address indexed recipient, uint256 amount);

    error NotPlayer0();
    error BadPlayers();
    error BadValue();
    error DepositTooLarge();
    error BadChallengePeriod();
    error NoAppCode();
    error ChannelExists();
    error WrongStatus();
    error NotPlayer1OrBadValue();
    error TooEarly();
    error TooLate();
    error BadChannel();
    error NotFinal();
    error BadPayouts();
    error BadSignature();
    error StaleNonce();
    error NothingToWithdraw();
    error TransferFailed();
    error Reentrancy();

    uint256 public constant FUNDING_TIMEOUT = 1 days;
    uint256 public constant MAX_CHALLENGE_PERIOD = 365 days;

    uint256 internal constant OPENED = 1;
    uint256 internal constant FUNDED = 2;
    uint256 internal constant CHALLENGED = 3;
    uint256 internal constant CLOSED = 4;

    uint256 internal constant MASK40 = (1 << 40) - 1;
    uint256 internal constant MASK64 = (1 << 64) - 1;
    uint256 internal constant MASK88 = (1 << 88) - 1;

    // Gas a payout transfer may use beyond the 2,300 stipend: enough for a
    // wallet's receive hook, too little to grief the caller; a recipient that
    // needs more is credited and withdraws with all the gas it wants.
    uint256 internal constant PAY_GAS = 10000;

    // secp256k1n / 2: signatures with a larger s are malleable copies.
    uint256 internal constant HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    bytes32 internal constant EMPTY_CODE_HASH = keccak256("");
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant NAME_HASH = keccak256("breakpoint");
    bytes32 internal constant VERSION_HASH = keccak256("1");
    bytes32 internal constant BREAKPOINT_TYPEHASH = keccak256(
        "Breakpoint(bytes32 channelId,uint64 nonce,bytes32 stateRoot,bytes32 moveHash,uint256[] payouts,bool isFinal)"
    );

    /// The one slot per channel (layout above).
    mapping(bytes32 => uint256) public channels;
    /// Payouts whose transfer failed, waiting for withdraw().
    mapping(address => uint256) public credits;

    bool internal transient locked;

    /// Every function that sends ether (or could be re-entered from a payout)
    /// holds this lock; checks-effects-interactions is kept as well.
    modifier nonReentrant() {
        if (locked) revert Reentrancy();
        locked = true;
        _;
        locked = false;
    }

    // ------------------------------------------------------------------
    // Funding
    // ------------------------------------------------------------------

    /// Opens a channel with players[0]'s deposit; emits Opened with the id.
    function open(
        address app,
        address[2] calldata players,
        uint256[2] calldata deposits,
        bytes calldata initArgs,
        uint64 challengePeriod,
        bytes32 salt
    ) external payable returns (bytes32 channelId) {
        // Reading through Solidity validates the words (clean addresses).
        if (msg.sender != players[0]) revert NotPlayer0();
        address p1 = players[1];
        if (p1 == address(0) || p1 == msg.sender) revert BadPlayers();
        uint256 d0 = deposits[0];
        if (msg.value != d0) revert BadValue();
        if ((d0 | deposits[1]) > MASK88) revert DepositTooLarge();
        if (challengePeriod == 0 || challengePeriod > MAX_CHALLENGE_PERIOD) revert BadChallengePeriod();
        bytes32 codeHash = app.codehash;
        if (codeHash == bytes32(0) || codeHash == EMPTY_CODE_HASH) revert NoAppCode();
        bytes32 topic = Opened.selector;
        // Equivalent to
        //   channelId = keccak256(abi.encode(block.chainid, address(this), app, codeHash, players,
        //                                    deposits, keccak256(initArgs), challengePeriod, salt));
        //   emit Opened(channelId, app, codeHash, players, deposits, initArgs, challengePeriod, salt);
        // but built once in memory: words 2..10 of the id's preimage are,
        // after one word is swapped, the head of the event's data (open is
        // the gas-critical call; tests/contracts checks both against ethers).
        assembly ("memory-safe") {
            let m := mload(0x40)
            let len := initArgs.length
            mstore(m, chainid())
            mstore(add(m, 0x20), address())
            mstore(add(m, 0x40), app)
            mstore(add(m, 0x60), codeHash)
            calldatacopy(add(m, 0x80), players, 0x40)
            calldatacopy(add(m, 0xc0), deposits, 0x40)
            // initArgs at its place in the event data (after the length word)
            calldatacopy(add(m, 0x180), initArgs.offset, len)
            mstore(add(add(m, 0x180), len), 0) // zero padding
            mstore(add(m, 0x100), keccak256(add(m, 0x180), len))
            mstore(add(m, 0x120), challengePeriod)
            mstore(add(m, 0x140), salt)
            channelId := keccak256(m, 0x160)
            // event data = m + 0x40: app, codeHash, players, deposits,
            // offset of initArgs (0x120), challengePeriod, salt, len, initArgs
            mstore(add(m, 0x100), 0x120)
            mstore(add(m, 0x160), len)
            log2(add(m, 0x40), add(0x140, and(add(len, 31), not(31))), topic, channelId)
        }
        // Only a hash of (players[1], deposits[1]) fits in the slot.
        uint256 who = (uint256(keccak256(abi.encode(p1, deposits[1]))) >> 136) << 136;
        if (channels[channelId] != 0) revert ChannelExists();
        channels[channelId] = OPENED | (block.timestamp << 8) | (d0 << 48) | who;
    }

    /// players[1]'s deposit: the channel is funded.
    function deposit(bytes32 channelId) external payable {
        uint256 s = channels[channelId];
        if (s & 0xff != OPENED) revert WrongStatus();
        uint256 who;
        assembly ("memory-safe") {
            mstore(0, caller())
            mstore(0x20, callvalue())
            who := shr(136, keccak256(0, 0x40))
        }
        if (who != s >> 136) revert NotPlayer1OrBadValue();
        channels[channelId] = FUNDED;
        emit Deposited(channelId, msg.sender, msg.value, ((s >> 48) & MASK88) + msg.value);
    }

    /// Gives players[0] its deposit back if players[1] never funded the
    /// channel within FUNDING_TIMEOUT.
    function reclaim(Params calldata p) external nonReentrant {
        bytes32 id = channelIdOf(p);
        uint256 s = channels[id];
        if (s & 0xff != OPENED) revert WrongStatus();
        if (msg.sender != p.players[0]) revert NotPlayer0();
        if (block.timestamp < ((s >> 8) & MASK40) + FUNDING_TIMEOUT) revert TooEarly();
        channels[id] = CLOSED;
        uint256 amount = p.deposits[0];
        emit Reclaimed(id, amount);
        pay(p.players[0], amount);
    }

    // ------------------------------------------------------------------
    // Closing
    // ------------------------------------------------------------------

    /// Pays out a final breakpoint signed by both players at once. Also ends
    /// a running challenge (before its deadline) if bp is not older than the
    /// registered breakpoint.
    function conclude(Params calldata p, Breakpoint calldata bp, bytes[2] calldata sigs) external nonReentrant {
        bytes32 id = channelIdOf(p);
        if (bp.channelId != id) revert BadChannel();
        uint256 s = channels[id];
        uint256 status = s & 0xff;
        if (status == CHALLENGED) {
            if (block.timestamp >= (s >> 72) & MASK64) revert TooLate();
            if (bp.nonce < (s >> 8) & MASK64) revert StaleNonce();
        } else if (status != FUNDED) {
            revert WrongStatus();
        }
        if (!bp.isFinal) revert NotFinal();
        checkPayouts(p, bp);
        checkSignatures(p, bp, sigs);
        channels[id] = CLOSED;
        emit Concluded(id, bp.nonce);
        pay(p.players[0], bp.payouts[0]);
        pay(p.players[1], bp.payouts[1]);
    }

    /// Registers a breakpoint signed by both players. The first challenge
    /// fixes the deadline; until then any breakpoint with a higher nonce
    /// replaces the registered one.
    function challenge(Params calldata p, Breakpoint calldata bp, bytes[2] calldata sigs) external nonReentrant {
        bytes32 id = channelIdOf(p);
        if (bp.channelId != id) revert BadChannel();
        uint256 s = channels[id];
        uint256 status = s & 0xff;
        uint256 deadline;
        if (status == CHALLENGED) {
            deadline = (s >> 72) & MASK64;
            if (block.timestamp >= deadline) revert TooLate();
            if (bp.nonce <= (s >> 8) & MASK64) revert StaleNonce();
        } else if (status == FUNDED) {
            deadline = block.timestamp + p.challengePeriod;
        } else {
            revert WrongStatus();
        }
        checkPayouts(p, bp);
        checkSignatures(p, bp, sigs);
        channels[id] = CHALLENGED | (uint256(bp.nonce) << 8) | (deadline << 72) | (bp.payouts[0] << 136);
        emit Challenged(id, bp.nonce, uint64(deadline));
    }

    /// After the deadline: pays the registered breakpoint's payouts.
    function settle(Params calldata p) external nonReentrant {
        bytes32 id = channelIdOf(p);
        uint256 s = channels[id];
        if (s & 0xff != CHALLENGED) revert WrongStatus();
        if (block.timestamp < (s >> 72) & MASK64) revert TooEarly();
        channels[id] = CLOSED;
        emit Settled(id, uint64(s >> 8));
        uint256 pay0 = s >> 136;
        // deposits < 2^88 (checked at open, bound by the id) and pay0 <= pot
        // (checked at challenge): no overflow, no underflow.
        uint256 pot = p.deposits[0] + p.deposits[1];
        pay(p.players[0], pay0);
        pay(p.players[1], pot - pay0);
    }

    /// Takes the sender's credited payouts (transfers that failed).
    function withdraw() external nonReentrant {
        uint256 amount = credits[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        credits[msg.sender] = 0;
        bool ok;
        assembly {
            ok := call(gas(), caller(), amount, 0, 0, 0, 0)
        }
        if (!ok) revert TransferFailed();
        emit Withdrawn(msg.sender, amount);
    }

    // ------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------

    /// The channel id the parameters commit to (DESIGN.md §3).
    function channelIdOf(Params calldata p) public view returns (bytes32) {
        return keccak256(
            abi.encode(
                block.chainid, address(this), p.app, p.codeHash, p.players, p.deposits, p.initArgsHash,
                p.challengePeriod, p.salt
            )
        );
    }

    /// status: 0 none, 1 opened (deadline = when reclaim opens), 2 funded,
    /// 3 challenged (registered nonce and deadline), 4 closed.
    function state(bytes32 channelId) external view returns (uint8 status, uint64 nonce, uint64 deadline) {
        uint256 s = channels[channelId];
        status = uint8(s);
        if (s & 0xff == OPENED) {
            deadline = uint64(((s >> 8) & MASK40) + FUNDING_TIMEOUT);
        } else if (s & 0xff == CHALLENGED) {
            nonce = uint64(s >> 8);
            deadline = uint64(s >> 72);
        }
    }

    /// The EIP-712 domain separator: name "breakpoint", version "1".
    function domainSeparator() public view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, address(this)));
    }

    // ------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------

    /// Two payouts that sum to the pot. The caller has checked the status,
    /// so p's deposits are the opened channel's (< 2^88 each).
    function checkPayouts(Params calldata p, Breakpoint calldata bp) internal pure {
        uint256[] calldata payouts = bp.payouts;
        uint256 pot = p.deposits[0] + p.deposits[1];
        if (payouts.length != 2 || payouts[0] > pot || payouts[1] != pot - payouts[0]) revert BadPayouts();
    }

    function checkSignatures(Params calldata p, Breakpoint calldata bp, bytes[2] calldata sigs) internal view {
        bytes32 structHash = keccak256(
            abi.encode(
                BREAKPOINT_TYPEHASH, bp.channelId, bp.nonce, bp.stateRoot, bp.moveHash,
                keccak256(abi.encodePacked(bp.payouts)), bp.isFinal
            )
        );
        bytes32 digest = keccak256(abi.encodePacked(hex"1901", domainSeparator(), structHash));
        checkSignature(digest, sigs[0], p.players[0]);
        checkSignature(digest, sigs[1], p.players[1]);
    }

    /// 65 bytes r ‖ s ‖ v, v 27 or 28, low s, recovering to signer.
    function checkSignature(bytes32 digest, bytes calldata sig, address signer) internal pure {
        if (sig.length != 65) revert BadSignature();
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly {
            r := calldataload(sig.offset)
            s := calldataload(add(sig.offset, 32))
            v := byte(0, calldataload(add(sig.offset, 64)))
        }
        if (uint256(s) > HALF_N || (v != 27 && v != 28)) revert BadSignature();
        address got = ecrecover(digest, v, r, s);
        if (got == address(0) || got != signer) revert BadSignature();
    }

    /// Sends a payout without letting the recipient block anything: no return
    /// data is copied, gas is capped, and a failed transfer becomes a credit.
    function pay(address to, uint256 amount) internal {
        if (amount == 0) return;
        bool ok;
        assembly {
            ok := call(PAY_GAS, to, amount, 0, 0, 0, 0)
        }
        if (!ok) {
            credits[to] += amount;
            emit Credited(to, amount);
        }
    }
}
