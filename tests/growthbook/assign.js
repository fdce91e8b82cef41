#!/usr/bin/env node
// assign.js: the benchmark peer of asin-split.  Reads one ID per line on
// stdin and writes the same NDJSON asin-split writes for a bare ID, with
// the assignment made by the published GrowthBook SDK
// (GrowthBookClient.runInlineExperiment, the server-side multi-user API).
//
//   NODE_PATH=build/gb-node/node_modules node tests/growthbook/assign.js \
//       KEY SEED HASH_VERSION <ids >out
"use strict";
const { GrowthBookClient } = require("@growthbook/growthbook");

const [key, seed, hv] = process.argv.slice(2);
const exp = { key: key, seed: seed || key, hashVersion: Number(hv || 2),
    hashAttribute: "asin", variations: ["control", "treatment"] };
const client = new GrowthBookClient({});

let rest = "";
let out = [];
function flush(force) {
	if (out.length >= 4096 || (force && out.length > 0)) {
		process.stdout.write(out.join(""));
		out = [];
	}
}
function assign(id) {
	const r = client.runInlineExperiment(exp, { attributes: { asin: id } });
	out.push(r.inExperiment ?
	    `{"asin":${JSON.stringify(id)},"variant":${JSON.stringify(r.value)},` +
	    `"variation_id":${r.variationId},"in_experiment":true,` +
	    `"bucket":${r.bucket},"experiment":${JSON.stringify(key)},` +
	    `"hash_version":${exp.hashVersion}}\n` :
	    `{"asin":${JSON.stringify(id)},"variant":null,"variation_id":null,` +
	    `"in_experiment":false,"bucket":null,` +
	    `"experiment":${JSON.stringify(key)},"hash_version":${exp.hashVersion}}\n`);
}
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
	const lines = (rest + chunk).split("\n");
	rest = lines.pop();
	for (const l of lines)
		if (l.length > 0)
			assign(l);
	if (out.length >= 4096) {
		process.stdin.pause();
		process.stdout.write(out.join(""), () => process.stdin.resume());
		out = [];
	}
});
process.stdin.on("end", () => {
	if (rest.length > 0)
		assign(rest);
	flush(true);
});
