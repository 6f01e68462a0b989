INSERT INTO "Team" ("id", "code") VALUES (1, 'red'), (2, 'blue');
INSERT INTO "Member" ("teamId", "userId") VALUES (1, 10), (1, 11), (2, 10);
