// Reads JSON lines on stdin and runs each as a Prisma Client call, printing one JSON
// line per input line: {"result": ...} or {"error": {"name", "code", "message"}}.
//
//   {"model": "user", "op": "create", "args": {"data": {...}}}
//   {"op": "$queryRawUnsafe", "args": ["SELECT ...", 1, 2]}      (also $executeRawUnsafe)
//
// Input values Prisma cannot take from plain JSON are tagged:
//   {"$type": "BigInt", "value": "123"}        -> 123n
//   {"$type": "Decimal", "value": "1.5"}       -> new Prisma.Decimal("1.5")
//   {"$type": "DateTime", "value": "...Z"}     -> new Date(...)
//   {"$type": "Bytes", "value": "<base64>"}    -> Uint8Array
//   {"$type": "DbNull" | "JsonNull" | "AnyNull"} -> Prisma.DbNull / JsonNull / AnyNull
// Output: BigInt and Decimal as strings, Bytes as base64, DateTime as ISO-8601 (UTC, ms).
import { createInterface } from "node:readline";

const prisma = globalThis.prisma;
const Prisma = globalThis.Prisma;

function decode(value) {
  if (Array.isArray(value)) return value.map(decode);
  if (value === null || typeof value !== "object") return value;
  if (typeof value.$type === "string") {
    switch (value.$type) {
      case "BigInt":
        return BigInt(value.value);
      case "Decimal":
        return new Prisma.Decimal(value.value);
      case "DateTime":
        return new Date(value.value);
      case "Bytes":
        return new Uint8Array(Buffer.from(value.value, "base64"));
      case "DbNull":
        return Prisma.DbNull;
      case "JsonNull":
        return Prisma.JsonNull;
      case "AnyNull":
        return Prisma.AnyNull;
    }
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decode(v)]));
}

function encode(_key, value) {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  return value; // Date and Decimal arrive here already as strings (their toJSON)
}

async function run(request) {
  const args = decode(request.args);
  if (request.op.startsWith("$")) return prisma[request.op](...(args ?? []));
  const delegate = prisma[request.model];
  if (delegate === undefined) throw new Error(`no model accessor ${request.model}`);
  if (typeof delegate[request.op] !== "function") throw new Error(`no operation ${request.op}`);
  return delegate[request.op](args);
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let out;
  try {
    out = { result: (await run(JSON.parse(line))) ?? null };
  } catch (error) {
    out = { error: { name: error?.name ?? "Error", code: error?.code ?? null, message: String(error?.message ?? error) } };
  }
  process.stdout.write(`${JSON.stringify(out, encode)}\n`);
}
