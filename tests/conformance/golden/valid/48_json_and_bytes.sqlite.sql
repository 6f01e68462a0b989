-- CreateTable
CREATE TABLE "Widget" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "config" JSONB NOT NULL DEFAULT {},
    "layout" JSONB NOT NULL DEFAULT [1, 2, 3],
    "caption" JSONB NOT NULL DEFAULT "hello",
    "weight" JSONB NOT NULL DEFAULT 42,
    "extra" JSONB,
    "thumbnail" BLOB NOT NULL DEFAULT '',
    "icon" BLOB DEFAULT '69636f6e'
);
