#!/usr/bin/env node
// Compiles breakpoint's contracts with the pinned solc-js (standard JSON,
// evmVersion cancun, optimizer on) and writes OUTDIR/NAME.json =
// {abi, bytecode, deployedBytecode} for every contract of the sources.
//
//   node compile.mjs OUTDIR [FILE.sol ...]
//
// Without files it compiles Adjudicator.sol, IChannelApp.sol and TicTacToe.sol
// next to this script. Imports are resolved relative to the importing file's
// folder. Any compiler error (warnings are printed, not fatal) exits non-zero
// and writes nothing.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import solc from 'solc';

const here = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT_SOURCES = ['Adjudicator.sol', 'IChannelApp.sol', 'TicTacToe.sol'];
const EXPECTED_SOLC = '0.8.37';

function die(msg) {
  process.stderr.write(`compile.mjs: ${msg}\n`);
  process.exit(1);
}

const [outDir, ...files] = process.argv.slice(2);
if (!outDir) die('usage: node compile.mjs OUTDIR [FILE.sol ...]');
const inputs = files.length ? files.map((f) => path.resolve(f)) : DEFAULT_SOURCES.map((f) => path.join(here, f));

const version = solc.version();
if (!version.startsWith(EXPECTED_SOLC + '+')) die(`solc ${version} is not the pinned ${EXPECTED_SOLC}`);

// Source unit names are base names (not absolute paths) so that the metadata,
// and with it the bytecode, does not depend on where the tree is checked out.
const sources = {};
const origin = {};
for (const file of inputs) {
  const name = path.basename(file);
  if (origin[name] && origin[name] !== file) die(`two sources named ${name}`);
  origin[name] = file;
  sources[name] = { content: fs.readFileSync(file, 'utf8') };
}
const baseDir = path.dirname(inputs[0]);

function findImports(name) {
  const file = path.join(baseDir, name);
  try {
    return { contents: fs.readFileSync(file, 'utf8') };
  } catch (e) {
    return { error: `cannot read import ${name} (${file}): ${e.message}` };
  }
}

const input = {
  language: 'Solidity',
  sources,
  settings: {
    evmVersion: 'cancun',
    optimizer: { enabled: true, runs: 10000 },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
  },
};

const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
let failed = false;
for (const e of output.errors || []) {
  process.stderr.write((e.formattedMessage || e.message) + '\n');
  if (e.severity === 'error') failed = true;
}
if (failed) die('compilation failed');
if (!output.contracts) die('compiler produced no contracts');

fs.mkdirSync(outDir, { recursive: true });
let written = 0;
for (const [unit, contracts] of Object.entries(output.contracts)) {
  if (!sources[unit]) continue; // imported only: written when compiled itself
  for (const [name, c] of Object.entries(contracts)) {
    const artifact = {
      abi: c.abi,
      bytecode: '0x' + c.evm.bytecode.object,
      deployedBytecode: '0x' + c.evm.deployedBytecode.object,
    };
    // Write then rename, so a reader never sees half a file.
    const dest = path.join(outDir, `${name}.json`);
    fs.writeFileSync(dest + '.tmp', JSON.stringify(artifact, null, 1) + '\n');
    fs.renameSync(dest + '.tmp', dest);
    written++;
  }
}
if (written === 0) die('no contracts written');
