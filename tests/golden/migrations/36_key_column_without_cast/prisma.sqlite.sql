-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_T" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "e" TEXT NOT NULL
);
INSERT INTO "new_T" ("e", "id") SELECT "e", "id" FROM "T";
DROP TABLE "T";
ALTER TABLE "new_T" RENAME TO "T";
CREATE TABLE "new_Child" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "tid" INTEGER NOT NULL,
    CONSTRAINT "Child_tid_fkey" FOREIGN KEY ("tid") REFERENCES "T" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
INSERT INTO "new_Child" ("id", "tid") SELECT "id", "tid" FROM "Child";
DROP TABLE "Child";
ALTER TABLE "new_Child" RENAME TO "Child";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
