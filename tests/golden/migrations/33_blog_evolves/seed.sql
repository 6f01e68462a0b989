INSERT INTO "users" ("id", "email", "name", "role", "updatedAt") VALUES ('u1', 'ann@example.com', 'Ann', 'ADMIN', '2024-01-01 00:00:00'), ('u2', 'bob@example.com', NULL, 'USER', '2024-01-02 00:00:00');
INSERT INTO "user_profiles" ("userId", "bio") VALUES ('u1', 'writes');
INSERT INTO "Category" ("id", "name", "slug") VALUES (1, 'Tech', 'tech');
INSERT INTO "Tag" ("id", "name", "slug") VALUES (1, 'sql', 'sql');
INSERT INTO "Post" ("id", "authorId", "categoryId", "title", "content", "status", "views", "updatedAt") VALUES (1, 'u1', 1, 'Hello', 'First', 'PUBLISHED', 10, '2024-01-03 00:00:00'), (2, 'u2', NULL, 'Hi', 'Second', 'DRAFT', 0, '2024-01-04 00:00:00');
INSERT INTO "_PostToTag" ("A", "B") VALUES (1, 1);
INSERT INTO "Comment" ("id", "postId", "authorId", "content") VALUES (1, 1, 'u2', 'Nice'), (2, 1, 'u1', 'Thanks');
UPDATE "Comment" SET "parentId" = 1 WHERE "id" = 2;
