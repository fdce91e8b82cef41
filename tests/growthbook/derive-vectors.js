#!/usr/bin/env node
// derive-vectors.js: asin-split's own conformance vectors, produced by the
// published GrowthBook SDK (npm @growthbook/growthbook), never by our code.
// Prints one JSON object in the layout of the SDK's cases.json ("hash",
// "run", "feature" sections), which `asin-split --check` reads.
//
//   npm install --prefix build/gb-node @growthbook/growthbook@1.8.0
//   NODE_PATH=build/gb-node/node_modules node tests/growthbook/derive-vectors.js \
//       >tests/fixtures/asin-split/sdk-vectors.json
"use strict";
const { GrowthBookClient } = require("@growthbook/growthbook");
const sdkVersion = require("@growthbook/growthbook/package.json").version;

// Deterministic synthetic ids: "B0" + 8 of [0-9A-Z], and ten-digit ISBNs.
let state = 20240601;
function rnd() {
	state = (state + 0x6d2b79f5) | 0;
	let t = Math.imul(state ^ (state >>> 15), 1 | state);
	t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
	return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const AN = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
function asin(i) {
	let s = i % 4 === 3 ? "" : "B0";
	const alpha = i % 4 === 3 ? "0123456789" : AN;
	while (s.length < 10)
		s += alpha[Math.floor(rnd() * alpha.length)];
	return s;
}
const ids = [];
for (let i = 0; i < 60; i++)
	ids.push(asin(i));

const client = new GrowthBookClient({});
function run(exp, attributes) {
	return client.runInlineExperiment(exp, { attributes });
}

// hash: the bucket the SDK reports when every bucket is in a range.
const hash = [];
const seeds = ["", "asin-split", "price-test-2024", "a\u00e9\u65e5"];
const hashIds = ids.slice(0, 12).concat(["caf\u00e9", "\u65e5\u672c\u8a9e",
    "\ud83d\ude00", "a\ud83d\ude00b", "x"]);
for (const seed of seeds)
	for (const id of hashIds)
		for (const v of [1, 2]) {
			const r = run({ key: "h", seed: seed, hashVersion: v,
			    variations: [0, 1], ranges: [[0, 1], [1, 1]] }, { id });
			// An empty seed falls back to the key, so use the key.
			if (seed === "")
				continue;
			hash.push([seed, id, v, r.bucket]);
		}
for (const id of hashIds)
	for (const v of [1, 2]) {
		const r = run({ key: "k", hashVersion: v, variations: [0, 1],
		    ranges: [[0, 1], [1, 1]] }, { id });
		hash.push(["k", id, v, r.bucket]);
	}

// run: [name, context, experiment, value, inExperiment, hashUsed]
const experiments = [
	{ key: "asin-split-default", variations: ["control", "treatment"] },
	{ key: "search-rank-v2", hashVersion: 2, variations: [0, 1] },
	{ key: "price-test", seed: "price-test-2024", hashVersion: 2,
	    variations: ["a", "b", "c"], weights: [0.2, 0.3, 0.5],
	    coverage: 0.8 },
	{ key: "ns-test", hashVersion: 2, variations: [0, 1],
	    namespace: ["pricing", 0, 0.5] },
	{ key: "ns-v1", variations: [0, 1], namespace: ["pricing", 0.5, 1],
	    coverage: 0.5 },
	{ key: "holdout", hashVersion: 2, variations: [0, 1],
	    filters: [{ seed: "holdout-2024", ranges: [[0, 0.9]] }] },
	{ key: "explicit", hashVersion: 2, variations: [0, 1, 2],
	    ranges: [[0, 0.1], [0.1, 0.2], [0.5, 0.9]] },
	{ key: "four-way", hashVersion: 1, variations: [0, 1, 2, 3],
	    weights: [0.1, 0.2, 0.3, 0.4], coverage: 0.9 },
];
const runCases = [];
for (const exp of experiments)
	for (const id of ids.slice(0, 40)) {
		const r = run(exp, { id });
		runCases.push([exp.key + " " + id, { attributes: { id } }, exp,
		    r.value, r.inExperiment, r.hashUsed]);
	}

// feature: one experiment rule per category, sharing key and seed, then
// a catch-all rule; exactly what asin-split --by category builds.
const rule = (id, cond, w, cov) => Object.assign({
	id: id, key: "bycat", seed: "bycat-2024", hashVersion: 2,
	variations: ["control", "treatment"],
	meta: [{ key: "control" }, { key: "treatment" }],
	weights: w, coverage: cov }, cond ? { condition: { category: cond } } : {});
const features = {
	bycat: { defaultValue: null, rules: [
		rule("books", "Books", [0.2, 0.8], 0.5),
		rule("toys", "Toys", [0.5, 0.5], 1),
		rule("rest", null, [0.9, 0.1], 0.3),
	] },
	strict: { defaultValue: null, rules: [
		rule("books", "Books", [0.5, 0.5], 1),
		rule("games", "Games", [0.7, 0.3], 0.6),
	] },
};
const cats = ["Books", "Toys", "Garden", "Games"];
const featureCases = [];
for (const key of Object.keys(features))
	ids.forEach((id, i) => {
		const ctx = { attributes: { id, category: cats[i % 4] },
		    features: { [key]: features[key] } };
		const c2 = new GrowthBookClient({});
		c2.initSync({ payload: { features: ctx.features } });
		const r = c2.evalFeature(key, { attributes: ctx.attributes });
		const want = { value: r.value, on: r.on, off: r.off,
		    source: r.source, ruleId: r.ruleId };
		if (r.experimentResult) {
			const e = r.experimentResult;
			want.experimentResult = { variationId: e.variationId,
			    inExperiment: e.inExperiment, hashUsed: e.hashUsed,
			    bucket: e.bucket, hashAttribute: e.hashAttribute,
			    hashValue: e.hashValue, key: e.key, value: e.value };
		}
		featureCases.push([key + " " + id + " " + cats[i % 4], ctx, key,
		    want]);
	});

const out = {
	generator: "tests/growthbook/derive-vectors.js",
	sdkPackage: "@growthbook/growthbook",
	sdkVersion: sdkVersion,
	hash: hash,
	run: runCases,
	feature: featureCases,
};
// One case per line, like the SDK's own files, so diffs stay readable.
const lines = ["{"];
const keys = Object.keys(out);
keys.forEach((k, i) => {
	const v = out[k];
	const end = i + 1 < keys.length ? "," : "";
	if (Array.isArray(v)) {
		lines.push(JSON.stringify(k) + ": [");
		v.forEach((row, j) => lines.push(JSON.stringify(row) +
		    (j + 1 < v.length ? "," : "")));
		lines.push("]" + end);
	} else
		lines.push(JSON.stringify(k) + ": " + JSON.stringify(v) + end);
});
lines.push("}");
process.stdout.write(lines.join("\n") + "\n");
