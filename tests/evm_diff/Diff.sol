// SPDX-License-Identifier: MIT
// Contracts for the differential test vm/ vs anvil (tests/evm_diff): each
// function exercises a part of the EVM whose gas or state effects are easy
// to get subtly wrong (SSTORE refunds, cold/warm access, logs, CREATE2,
// transient storage, MCOPY, nested reverts).
pragma solidity ^0.8.24;

contract Child {
    uint256 public value;
    address public owner;

    constructor(uint256 v) {
        value = v;
        owner = msg.sender;
    }

    function bump(uint256 by) external returns (uint256) {
        value += by;
        return value;
    }

    function fail() external pure {
        revert("child says no");
    }
}

contract Main {
    event Stored(address indexed who, uint256 indexed key, uint256 value);
    event Note(string text, bytes32 hash);

    mapping(uint256 => uint256) public slots;
    mapping(address => mapping(uint256 => bytes32)) public nested;
    uint256[] public list;
    Child public child;
    uint256 public counter;

    error TooBig(uint256 got, uint256 limit);

    function set(uint256 k, uint256 v) external {
        slots[k] = v;
        emit Stored(msg.sender, k, v);
    }

    function clear(uint256 k) external {
        delete slots[k];
    }

    function setMany(uint256 from, uint256 n) external {
        for (uint256 i = 0; i < n; i++) slots[from + i] = i + 1;
    }

    function clearMany(uint256 from, uint256 n) external {
        for (uint256 i = 0; i < n; i++) delete slots[from + i];
    }

    // Writes that come back to the original value within one transaction
    // (EIP-2200/3529 restore refunds).
    function churn(uint256 k) external returns (uint256 orig) {
        orig = slots[k];
        slots[k] = orig + 7;
        slots[k] = 0;
        slots[k] = orig;
    }

    function hashLoop(bytes calldata data, uint256 rounds) external returns (bytes32 h) {
        h = keccak256(data);
        for (uint256 i = 0; i < rounds; i++) h = keccak256(abi.encodePacked(h, i));
        nested[msg.sender][rounds] = h;
        emit Note("hashed", h);
    }

    function push(uint256 v) external {
        list.push(v);
    }

    function pop() external {
        list.pop();
    }

    function mustBePositive(uint256 v) external returns (uint256) {
        require(v > 0, "value must be positive");
        if (v > 1000) revert TooBig(v, 1000);
        counter += v;
        return counter;
    }

    function deployChild(bytes32 salt, uint256 v) external returns (address) {
        child = new Child{salt: salt}(v);
        return address(child);
    }

    function bumpChild(uint256 by) external returns (uint256) {
        return child.bump(by);
    }

    // A failing inner call whose revert data is passed back; state written
    // before and after it stays.
    function tryChildFail() external returns (bool ok, bytes memory data) {
        counter += 1;
        (ok, data) = address(child).call(abi.encodeCall(Child.fail, ()));
        counter += 1;
    }

    function readTransient() external view returns (uint256 r) {
        assembly {
            r := tload(0)
        }
    }

    // TSTORE, then a call back into this contract that TLOADs the value in
    // the same transaction; the result is kept in storage.
    function useTransient(uint256 v) external returns (uint256 r) {
        assembly {
            tstore(0, v)
        }
        r = this.readTransient();
        counter = r + 1;
    }

    // MCOPY, overlapping both ways, and a hash of the result.
    function copy(bytes calldata data) external returns (bytes memory out) {
        out = new bytes(data.length + 64);
        bytes memory src = data;
        uint256 len = data.length;
        assembly {
            mcopy(add(out, 32), add(src, 32), len)
            mcopy(add(out, 64), add(out, 32), len)
            mcopy(add(out, 40), add(out, 64), len)
        }
        nested[msg.sender][len] = keccak256(out);
    }

    function deposit() external payable {
        counter += msg.value;
    }
}
