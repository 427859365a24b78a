// Reference event encoder for tests/chain/events_test.c: ethers v6 builds the log
// (topics + data) of an event from its human-readable signature and values.
// Usage: node ethers_event.js CASES.json — CASES is [{"event": "event X(...)", "values": [...]}, ...];
// prints per case one line: data topic0 topic1 ...
'use strict';
const fs = require('fs');
const path = require('path');
const { ethers } = require(path.resolve(process.env.BP_NODE_MODULES || 'node_modules', 'ethers'));
for (const c of JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))) {
  const iface = new ethers.Interface([c.event]);
  const frag = iface.fragments[0];
  const log = iface.encodeEventLog(frag, c.values);
  console.log([log.data, ...log.topics].join(' '));
}
