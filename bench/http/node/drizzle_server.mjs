// The Drizzle ORM peer: fastify routes over drizzle-orm/node-postgres, one process.
// Reads use Drizzle's query builder and relational queries (`db.query.*.findMany` with
// `with` for the nested read, the comment count as an `extras` subquery); writes use
// `db.transaction`, `onConflictDoUpdate` and `sql\`views + 1\``. See bench/http/contract.py
// for the endpoints. Usage: node drizzle_server.mjs PORT DATABASE_URL POOL_SIZE
import Fastify from "fastify";
import pg from "pg";
import { drizzle } from "drizzle-orm/node-postgres";
import { and, desc, eq, lt, relations, sql } from "drizzle-orm";
import { integer, pgEnum, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

const [port, url, poolSize] = process.argv.slice(2);

const postStatus = pgEnum("PostStatus", ["DRAFT", "PUBLISHED", "ARCHIVED"]);
const ts = (name) => timestamp(name, { precision: 3, mode: "date" });
const users = pgTable("users", {
  id: text("id").primaryKey(),
  email: text("email").notNull(),
});
const posts = pgTable("Post", {
  id: integer("id").primaryKey().generatedByDefaultAsIdentity(),
  authorId: text("authorId").notNull(),
  categoryId: integer("categoryId"),
  title: text("title").notNull(),
  content: text("content").notNull(),
  status: postStatus("status").notNull().default("DRAFT"),
  views: integer("views").notNull().default(0),
  publishedAt: ts("publishedAt"),
  createdAt: ts("createdAt").notNull().defaultNow(),
  updatedAt: ts("updatedAt").notNull(),
});
const comments = pgTable("Comment", {
  id: integer("id").primaryKey().generatedByDefaultAsIdentity(),
  postId: integer("postId").notNull(),
  authorId: text("authorId").notNull(),
  content: text("content").notNull(),
});
const categories = pgTable("Category", {
  id: integer("id").primaryKey().generatedByDefaultAsIdentity(),
  name: text("name").notNull(),
  slug: text("slug").notNull().unique(),
});
const postToTag = pgTable("_PostToTag", { A: integer("A").notNull(), B: integer("B").notNull() }, (t) => [
  primaryKey({ columns: [t.A, t.B] }),
]);
const usersRelations = relations(users, ({ many }) => ({ posts: many(posts) }));
const postsRelations = relations(posts, ({ one, many }) => ({
  author: one(users, { fields: [posts.authorId], references: [users.id] }),
  comments: many(comments),
}));
const commentsRelations = relations(comments, ({ one }) => ({
  post: one(posts, { fields: [comments.postId], references: [posts.id] }),
}));

const pool = new pg.Pool({ connectionString: url, max: Number(poolSize) });
const db = drizzle(pool, {
  schema: { users, posts, comments, categories, postToTag, usersRelations, postsRelations, commentsRelations },
});

const app = Fastify({ logger: false });
const MAX_TAKE = 1000;
const notFound = (reply) => reply.code(404).send({ error: "not found" });

app.get("/healthz", async () => "ok");

app.get("/posts/:id", async (request, reply) => {
  const rows = await db.select().from(posts).where(eq(posts.id, Number(request.params.id)));
  return rows.length ? rows[0] : notFound(reply);
});

app.get("/posts", async (request) => {
  const take = Math.min(Number(request.query.take ?? 50), MAX_TAKE);
  return db.select().from(posts).orderBy(desc(posts.createdAt)).limit(take);
});

app.get("/posts/page", async (request) => {
  const q = request.query;
  const filter = [eq(posts.status, q.status), eq(posts.categoryId, Number(q.categoryId))];
  if (q.cursor !== undefined) {
    const start = db.select({ createdAt: posts.createdAt }).from(posts).where(eq(posts.id, Number(q.cursor)));
    filter.push(lt(posts.createdAt, start));
  }
  const take = Math.min(Number(q.take ?? 20), MAX_TAKE);
  return db.select().from(posts).where(and(...filter)).orderBy(desc(posts.createdAt)).limit(take);
});

app.get("/users/nested", async () => {
  const rows = await db.query.users.findMany({
    columns: { id: true, email: true },
    orderBy: (u, { asc }) => [asc(u.email)],
    limit: 20,
    with: {
      posts: {
        columns: { id: true, title: true },
        orderBy: (p, { desc }) => [desc(p.createdAt)],
        limit: 10,
        extras: (p) => ({
          comments: sql`(select count(*) from "Comment" where "Comment"."postId" = ${p.id})`
            .mapWith(Number)
            .as("comments"),
        }),
      },
    },
  });
  return rows.map((u) => ({
    id: u.id,
    email: u.email,
    posts: u.posts.map((p) => ({ id: p.id, title: p.title, _count: { comments: p.comments } })),
  }));
});

app.post("/posts", async (request, reply) => {
  const body = request.body;
  const id = await db.transaction(async (tx) => {
    const [post] = await tx
      .insert(posts)
      .values({ authorId: body.authorId, title: body.title, content: body.content, updatedAt: new Date() })
      .returning({ id: posts.id });
    await tx.insert(postToTag).values(body.tagIds.map((tagId) => ({ A: post.id, B: tagId })));
    await tx
      .insert(comments)
      .values(body.comments.map((c) => ({ postId: post.id, authorId: c.authorId, content: c.content })));
    return post.id;
  });
  return reply.code(201).send({ id });
});

app.patch("/posts/:id", async (request, reply) => {
  const rows = await db
    .update(posts)
    .set({ title: request.body.title, updatedAt: new Date() })
    .where(eq(posts.id, Number(request.params.id)))
    .returning({ id: posts.id, title: posts.title });
  return rows.length ? rows[0] : notFound(reply);
});

app.put("/categories/:slug", async (request) => {
  const [row] = await db
    .insert(categories)
    .values({ slug: request.params.slug, name: request.body.name })
    .onConflictDoUpdate({ target: categories.slug, set: { name: request.body.name } })
    .returning({ id: categories.id, slug: categories.slug, name: categories.name });
  return row;
});

app.post("/posts/:id/views", async (request, reply) => {
  const rows = await db
    .update(posts)
    .set({ views: sql`${posts.views} + 1` })
    .where(eq(posts.id, Number(request.params.id)))
    .returning({ id: posts.id, views: posts.views });
  return rows.length ? rows[0] : notFound(reply);
});

const close = async () => {
  await app.close();
  await pool.end();
  process.exit(0);
};
process.on("SIGTERM", close);
process.on("SIGINT", close);
await app.listen({ host: "127.0.0.1", port: Number(port) });
