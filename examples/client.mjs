#!/usr/bin/env node
// huepool from Node (>= 18), with nothing but the built-in fetch: post images
// as multipart/form-data and read the NDJSON answer line by line, printing each
// result the moment its line arrives.
//
//   node examples/client.mjs [--url http://127.0.0.1:8080] [--mode imap_unordered]
//                            [--top K] [--processes N] [--alpha ignore] FILE...
//
// Prints one line per image: index, name, hex, percentage, WxH (and the top
// colors with --top), or "index name error CODE MESSAGE"; then a summary line
// from the stream's done line. Exit status: 0 all good, 1 some image failed,
// 2 the server refused the request (problem+json), 3 no connection or a cut stream.
import * as fs from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";

const { values: opt, positionals: files } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: "string", default: process.env.HUEPOOL_URL ?? "http://127.0.0.1:8080" },
    mode: { type: "string", default: "imap_unordered" },
    top: { type: "string" },
    processes: { type: "string" },
    alpha: { type: "string" },
  },
});
if (files.length === 0) {
  console.error("usage: node client.mjs [--url URL] [--mode map|imap|imap_unordered] [--top K] FILE...");
  process.exit(64);
}

// A Blob backed by the file (read as the body is sent, not loaded up front)
// where this Node has fs.openAsBlob (20 and later); on Node 18, the file's bytes.
async function fileBlob(path) {
  if (fs.openAsBlob) return fs.openAsBlob(path);
  return new Blob([await fs.promises.readFile(path)]);
}

function printResult(r) {
  if (r.error) {
    console.log(`${r.index}\t${r.name}\terror\t${r.error.code}\t${r.error.message}`);
    return false;
  }
  let line = `${r.index}\t${r.name}\t${r.hex}\t${r.percentage.toFixed(4)}%\t${r.width}x${r.height}`;
  if (r.colors) line += "\t" + r.colors.map((c) => `${c.hex}:${c.percentage.toFixed(4)}%`).join(" ");
  console.log(line);
  return true;
}

const query = new URLSearchParams({ mode: opt.mode });
for (const key of ["top", "processes", "alpha"]) if (opt[key] !== undefined) query.set(key, opt[key]);

const form = new FormData();
for (const path of files) form.append("image", await fileBlob(path), basename(path));

let response;
try {
  response = await fetch(new URL(`/v1/analyze?${query}`, opt.url), { method: "POST", body: form });
} catch (e) {
  console.error(`client.mjs: cannot reach ${opt.url}: ${e.cause?.message ?? e.message}`);
  process.exit(3);
}

if (!response.ok) {
  // Request-level errors are application/problem+json (RFC 9457).
  const problem = await response.json().catch(() => ({}));
  const retry = response.headers.get("retry-after");
  console.error(`client.mjs: HTTP ${response.status} ${problem.title ?? ""}: ${problem.detail ?? ""}` +
                (retry ? ` (retry after ${retry} s)` : ""));
  process.exit(2);
}

let failed = 0;
if (opt.mode === "map") {
  const doc = await response.json();
  for (const r of doc.results) failed += printResult(r) ? 0 : 1;
  console.log(`# ${doc.count} images, ${doc.failed} failed, ${doc.elapsed_ms.toFixed(1)} ms`);
  process.exit(failed ? 1 : 0);
}

// NDJSON: split the byte stream into lines ourselves; a line may span chunks.
let done = null;
const handle = (line) => {
  if (!line.trim()) return;
  const msg = JSON.parse(line);
  if (msg.done) done = msg;
  else failed += printResult(msg) ? 0 : 1;
};
let buffer = "";
try {
  for await (const text of response.body.pipeThrough(new TextDecoderStream())) {
    buffer += text;
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      handle(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  }
  handle(buffer);
} catch (e) {
  console.error(`client.mjs: the stream broke: ${e.cause?.message ?? e.message}`);
  process.exit(3);
}
if (!done) {
  console.error("client.mjs: the stream ended without its done line (cut)");
  process.exit(3);
}
if (done.error) {
  console.error(`client.mjs: the request failed mid-stream: HTTP ${done.error.status} ${done.error.code}: ${done.error.message}`);
  process.exit(2);
}
console.log(`# ${done.count} images, ${done.failed} failed, ${done.elapsed_ms.toFixed(1)} ms`);
process.exit(failed ? 1 : 0);
