#!/usr/bin/env node
// A `solc` look-alike for py-solc-x's standard-JSON interface, backed by solcjs (npm `solc`).
//
// Why: no native solc installs on these machines, and the `solcjs` command line cuts piped
// output at 64 KiB and prints a banner before the JSON (see TOOLCHAIN.md). py-solc-x only
// needs two things from a binary:
//   <shim> --version                      -> a line "Version: 0.8.28+commit.7893614a..."
//   <shim> --standard-json [--base-path P] [--include-path P]... [--allow-paths ...] < input.json
//                                         -> the standard-JSON output on stdout
// Imports are resolved like solc does: the source unit name is looked up under --base-path,
// then under each --include-path. --allow-paths is accepted and ignored (the callback only
// reads files under the given roots anyway). solc itself is resolved from the repository
// root's node_modules, so the pinned version in package-lock.json is the one used.
'use strict';

const fs = require('fs');
const path = require('path');

const REPO_ROOT = path.resolve(__dirname, '..');

function loadSolc() {
  try {
    return require(require.resolve('solc', { paths: [REPO_ROOT] }));
  } catch (err) {
    process.stderr.write(
      `solc_shim: cannot load npm 'solc' from ${REPO_ROOT}/node_modules (run \`make setup\`): ` +
        `${err.message}\n`,
    );
    process.exit(2);
  }
}

function parseArgs(argv) {
  const opts = { version: false, standardJson: false, basePath: null, includePaths: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const takeValue = () => {
      if (i + 1 >= argv.length) {
        process.stderr.write(`Error: option '${arg}' needs a value\n`);
        process.exit(2);
      }
      return argv[++i];
    };
    if (arg === '--version') opts.version = true;
    else if (arg === '--standard-json') opts.standardJson = true;
    else if (arg === '--base-path') opts.basePath = takeValue();
    else if (arg === '--include-path') opts.includePaths.push(takeValue());
    else if (arg === '--allow-paths') takeValue();
    else if (arg === '-') continue;
    else {
      // Same wording as solc, which py-solc-x turns into UnknownOption.
      process.stderr.write(`unrecognised option '${arg}'\n`);
      process.exit(1);
    }
  }
  return opts;
}

function makeImportCallback(roots) {
  return function findImport(sourceUnitName) {
    for (const root of roots) {
      const candidate = path.resolve(root, sourceUnitName);
      // Stay inside the root: a source unit name must not climb out with "..".
      const rel = path.relative(root, candidate);
      if (rel.startsWith('..') || path.isAbsolute(rel)) continue;
      if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
        return { contents: fs.readFileSync(candidate, 'utf8') };
      }
    }
    return { error: `File not found: ${sourceUnitName} (looked in ${roots.join(', ')})` };
  };
}

function readStdin() {
  // fd 0 read synchronously in a loop: works for pipes and files alike.
  const chunks = [];
  const buf = Buffer.alloc(1 << 16);
  for (;;) {
    let n;
    try {
      n = fs.readSync(0, buf, 0, buf.length, null);
    } catch (err) {
      if (err.code === 'EAGAIN') continue;
      if (err.code === 'EOF') break;
      throw err;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function writeAllSync(fd, text) {
  // A synchronous write loop, so nothing is lost when the process exits right after
  // (process.stdout on a pipe is asynchronous; that is what truncates solcjs output).
  const data = Buffer.from(text, 'utf8');
  let offset = 0;
  while (offset < data.length) {
    try {
      offset += fs.writeSync(fd, data, offset, data.length - offset);
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
    }
  }
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const solc = loadSolc();
  if (opts.version) {
    writeAllSync(1, `solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return 0;
  }
  if (!opts.standardJson) {
    process.stderr.write('solc_shim: only --version and --standard-json are supported\n');
    return 2;
  }
  const roots = [opts.basePath || process.cwd(), ...opts.includePaths].map((p) => path.resolve(p));
  const output = solc.compile(readStdin(), { import: makeImportCallback(roots) });
  writeAllSync(1, output);
  return 0;
}

process.exitCode = main();
