// ops.mjs with its answers written to a file: run <schema> batch.mjs <answers.jsonl> < requests.jsonl
//
// main.mjs ends with process.exit(), which drops whatever of a large output is still queued
// for a pipe (seen at a few hundred kB of answers); writes to a file descriptor opened here
// are synchronous, so every answer is on disk before the exit.
import { closeSync, openSync, writeSync } from "node:fs";

const [answers] = globalThis.scriptArgs;
if (!answers) throw new Error("usage: run <schema.prisma> batch.mjs <answers.jsonl> < requests.jsonl");
const fd = openSync(answers, "w");
process.stdout.write = (chunk, encoding, callback) => {
  writeSync(fd, typeof chunk === "string" ? Buffer.from(chunk, typeof encoding === "string" ? encoding : "utf8") : chunk);
  const done = typeof encoding === "function" ? encoding : callback;
  if (typeof done === "function") done();
  return true;
};
try {
  await import("./ops.mjs");
} finally {
  closeSync(fd);
}
