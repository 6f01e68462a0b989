INSERT INTO "User" ("id", "email", "name", "age") VALUES (1, 'ann@example.com', 'Ann', 30), (2, 'bob@example.com', NULL, 41);
INSERT INTO "Post" ("id", "title", "authorId", "views") VALUES (1, 'Hello', 1, 5), (2, 'World', 1, 7), (3, 'Bob says', 2, 0);
