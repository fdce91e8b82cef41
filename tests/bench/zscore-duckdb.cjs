#!/usr/bin/env node
// zscore-duckdb.cjs: run one DuckDB SQL script through the npm package
// @duckdb/node-api, the DuckDB peer of tests/bench/zscore.sh.
//
//   node zscore-duckdb.cjs [--threads N] SCRIPT.sql [NAME=VALUE ...]
//
// ${NAME} in the script becomes VALUE.  Statements end with ';' at the end
// of a line.  The module is looked up in $DUCKDB_MODULES, else in
// build/peers/node_modules (where setup-peers.sh installs it).
'use strict';
const fs = require('fs');
const path = require('path');

const top = path.resolve(__dirname, '..', '..');
const mods = process.env.DUCKDB_MODULES ||
  path.join(top, process.env.BUILD || 'build', 'peers', 'node_modules');
const { DuckDBInstance } = require(path.join(mods, '@duckdb', 'node-api'));

async function main() {
  const args = process.argv.slice(2);
  let threads = null;
  while (args.length && args[0].startsWith('--')) {
    const a = args.shift();
    if (a === '--threads') threads = args.shift();
    else throw new Error('unknown option ' + a);
  }
  let sql = fs.readFileSync(args.shift(), 'utf8');
  for (const kv of args) {
    const i = kv.indexOf('=');
    sql = sql.split('${' + kv.slice(0, i) + '}').join(kv.slice(i + 1));
  }
  const db = await DuckDBInstance.create(':memory:',
    threads ? { threads: String(threads) } : {});
  const con = await db.connect();
  for (const s of sql.split(/;\s*\n/).map(x => x.trim()).filter(Boolean))
    await con.run(s);
}
main().catch(e => { console.error(String((e && e.message) || e)); process.exit(1); });
