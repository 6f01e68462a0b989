// Runs a script with a connected PrismaClient: main.mjs <client.ts> <script.mjs> [args].
// The adapter follows $DATABASE_URL: postgres(ql):// -> @prisma/adapter-pg (a
// `?schema=` parameter becomes the adapter's schema option), file: -> @prisma/adapter-libsql.
// The script gets globalThis.prisma, globalThis.Prisma and globalThis.scriptArgs; if it
// exports a default function, that is awaited as fn(prisma, args).
import { pathToFileURL } from "node:url";

const [clientPath, scriptPath, ...args] = process.argv.slice(2);
const url = process.env.DATABASE_URL;
if (!url) {
  process.stderr.write("DATABASE_URL is not set\n");
  process.exit(2);
}

async function adapterFor(databaseUrl) {
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    const { PrismaPg } = await import("@prisma/adapter-pg");
    const parsed = new URL(databaseUrl);
    const schema = parsed.searchParams.get("schema");
    parsed.searchParams.delete("schema");
    return new PrismaPg({ connectionString: parsed.toString() }, schema ? { schema } : undefined);
  }
  if (databaseUrl.startsWith("file:")) {
    const { PrismaLibSql } = await import("@prisma/adapter-libsql");
    // intMode "bigint": the default ("number") fails on BigInt values past 2^53.
    return new PrismaLibSql({ url: databaseUrl, intMode: "bigint" });
  }
  throw new Error(`no driver adapter for the URL ${databaseUrl.split(":")[0]}:...`);
}

const { PrismaClient, Prisma } = await import(pathToFileURL(clientPath).href);
// DATATIER_PRISMA_LOG_QUERIES=1 prints every SQL statement Prisma sends to stderr.
const logQueries = process.env.DATATIER_PRISMA_LOG_QUERIES === "1";
const prisma = new PrismaClient({
  adapter: await adapterFor(url),
  ...(logQueries ? { log: [{ emit: "event", level: "query" }] } : {}),
});
if (logQueries) prisma.$on("query", (e) => process.stderr.write(`-- ${e.query} ${e.params}\n`));
globalThis.prisma = prisma;
globalThis.Prisma = Prisma;
globalThis.scriptArgs = args;
let status = 0;
try {
  await prisma.$connect();
  const module = await import(pathToFileURL(scriptPath).href);
  if (typeof module.default === "function") await module.default(prisma, args);
} catch (error) {
  process.stderr.write(`${error?.stack ?? error}\n`);
  status = 1;
} finally {
  await prisma.$disconnect();
}
process.exit(status);
