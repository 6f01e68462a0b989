// The PostGraphile 5 peer: GraphQL at /graphql built from the database by the amber preset,
// served by grafserv on Node's http server, one process, explain and the GraphiQL UI off.
// The bench waits for any answer below 500 on /graphql (a GET without a query is a 4xx).
// Usage: node postgraphile_server.mjs PORT DATABASE_URL POOL_SIZE
import { createServer } from "node:http";
import pg from "pg";
import { postgraphile } from "postgraphile";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";

const [port, url, poolSize] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: url, max: Number(poolSize) });

const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [makePgService({ pool, schemas: ["public"] })],
  grafserv: { graphqlPath: "/graphql", graphiql: false, watch: false, maxRequestLength: 1_000_000 },
  grafast: { explain: false },
  // Filter and order by unindexed columns too (categoryId), as the REST peers do.
  disablePlugins: ["PgIndexBehaviorsPlugin"],
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
await serv.addTo(server);
// Build the schema before the first request is timed.
await pgl.getSchemaResult();

const close = async () => {
  server.close();
  await pgl.release();
  await pool.end();
  process.exit(0);
};
process.on("SIGTERM", close);
process.on("SIGINT", close);
server.listen(Number(port), "127.0.0.1");
