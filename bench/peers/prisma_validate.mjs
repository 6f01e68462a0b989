// Times Prisma's own schema validator in-process (the WebAssembly build that
// prisma-dmmf uses), so Node's start-up and the wasm load are not in the numbers.
//
// node --expose-gc prisma_validate.mjs --package DIR --schema FILE [--reps N] [--warmup N]
// prints {"package": ..., "version": ..., "node": ..., "operations": {name: [ns, ...]}}.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    package: { type: "string" },
    schema: { type: "string" },
    reps: { type: "string", default: "30" },
    warmup: { type: "string", default: "3" },
  },
});
if (!values.package || !values.schema) {
  console.error("usage: prisma_validate.mjs --package DIR --schema FILE [--reps N] [--warmup N]");
  process.exit(2);
}
const require = createRequire(join(values.package, "package.json"));
const wasm = require(values.package);
const version = JSON.parse(readFileSync(join(values.package, "package.json"), "utf8")).version;

// As prisma-dmmf does: the current validator rejects datasource URLs in schema files.
const text = readFileSync(values.schema, "utf8").split("\n")
  .filter((l) => !/^\s*(url|directUrl|shadowDatabaseUrl)\s*=/.test(l)).join("\n");
const params = JSON.stringify({ prismaSchema: [[values.schema, text]], noColor: true });

const operations = {
  // Parse and validate only; throws on an invalid schema.
  validate: () => wasm.validate(params),
  // Parse, validate, build the DMMF and serialise it to a JSON string.
  get_dmmf: () => wasm.get_dmmf(params),
};
const gc = globalThis.gc ?? (() => {});
const reps = Number(values.reps);
const warmup = Number(values.warmup);
const samples = {};
for (const [name, run] of Object.entries(operations)) {
  for (let i = 0; i < warmup; i++) run();
  samples[name] = [];
  for (let i = 0; i < reps; i++) {
    gc();
    const start = process.hrtime.bigint();
    run();
    samples[name].push(Number(process.hrtime.bigint() - start));
  }
}
process.stdout.write(JSON.stringify({
  package: "@prisma/prisma-schema-wasm", version, node: process.version, operations: samples,
}) + "\n");
