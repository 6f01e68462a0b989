// The Prisma 7 peer: fastify routes over Prisma Client 7 (WebAssembly query compiler)
// with @prisma/adapter-pg, one process. Every endpoint is one Prisma Client call written
// as a Prisma user would write it (nested create with connect for the tags, `upsert`,
// `{ increment: 1 }`, `include`-style nested select with `_count`). See
// bench/http/contract.py for the endpoints.
// Usage: node prisma_server.mjs PORT DATABASE_URL POOL_SIZE CLIENT_TS
import Fastify from "fastify";
import { PrismaPg } from "@prisma/adapter-pg";

const [port, url, poolSize, clientPath] = process.argv.slice(2);
const { PrismaClient } = await import(clientPath);
const adapter = new PrismaPg({ connectionString: url, max: Number(poolSize) });
const prisma = new PrismaClient({ adapter });
await prisma.$connect();

const app = Fastify({ logger: false });
const MAX_TAKE = 1000;
const notFound = (reply) => reply.code(404).send({ error: "not found" });
const isNotFound = (error) => error?.code === "P2025";

app.get("/healthz", async () => "ok");

app.get("/posts/:id", async (request, reply) => {
  const post = await prisma.post.findUnique({ where: { id: Number(request.params.id) } });
  return post ?? notFound(reply);
});

app.get("/posts", async (request) => {
  const take = Math.min(Number(request.query.take ?? 50), MAX_TAKE);
  return prisma.post.findMany({ orderBy: { createdAt: "desc" }, take });
});

app.get("/posts/page", async (request) => {
  const q = request.query;
  const take = Math.min(Number(q.take ?? 20), MAX_TAKE);
  const page = { where: { status: q.status, categoryId: Number(q.categoryId) }, orderBy: { createdAt: "desc" }, take };
  if (q.cursor !== undefined) {
    // The cursor row itself is the first of the page: skip it.
    Object.assign(page, { cursor: { id: Number(q.cursor) }, skip: 1 });
  }
  return prisma.post.findMany(page);
});

app.get("/users/nested", async () =>
  prisma.user.findMany({
    take: 20,
    orderBy: { email: "asc" },
    select: {
      id: true,
      email: true,
      posts: {
        take: 10,
        orderBy: { createdAt: "desc" },
        select: { id: true, title: true, _count: { select: { comments: true } } },
      },
    },
  }),
);

app.post("/posts", async (request, reply) => {
  const body = request.body;
  const post = await prisma.post.create({
    data: {
      author: { connect: { id: body.authorId } },
      title: body.title,
      content: body.content,
      tags: { connect: body.tagIds.map((id) => ({ id })) },
      comments: {
        create: body.comments.map((c) => ({ content: c.content, author: { connect: { id: c.authorId } } })),
      },
    },
    select: { id: true },
  });
  return reply.code(201).send(post);
});

app.patch("/posts/:id", async (request, reply) => {
  try {
    return await prisma.post.update({
      where: { id: Number(request.params.id) },
      data: { title: request.body.title },
      select: { id: true, title: true },
    });
  } catch (error) {
    if (isNotFound(error)) return notFound(reply);
    throw error;
  }
});

app.put("/categories/:slug", async (request) =>
  prisma.category.upsert({
    where: { slug: request.params.slug },
    create: { slug: request.params.slug, name: request.body.name },
    update: { name: request.body.name },
    select: { id: true, slug: true, name: true },
  }),
);

app.post("/posts/:id/views", async (request, reply) => {
  try {
    return await prisma.post.update({
      where: { id: Number(request.params.id) },
      data: { views: { increment: 1 } },
      select: { id: true, views: true },
    });
  } catch (error) {
    if (isNotFound(error)) return notFound(reply);
    throw error;
  }
});

const close = async () => {
  await app.close();
  await prisma.$disconnect();
  process.exit(0);
};
process.on("SIGTERM", close);
process.on("SIGINT", close);
await app.listen({ host: "127.0.0.1", port: Number(port) });
