INSERT INTO "public"."User" ("id", "email") VALUES (1, 'ann@example.com');
INSERT INTO "audit"."Event" ("id", "kind") VALUES (1, 'login'), (2, 'logout');
