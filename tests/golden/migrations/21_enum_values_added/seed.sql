INSERT INTO "User" ("id", "email", "name", "age", "role") VALUES (1, 'ann@example.com', 'Ann', 30, 'ADMIN'), (2, 'bob@example.com', NULL, 41, 'USER');
INSERT INTO "Post" ("id", "title", "authorId", "views") VALUES (1, 'Hello', 1, 5), (2, 'World', 1, 7), (3, 'Bob says', 2, 0);
