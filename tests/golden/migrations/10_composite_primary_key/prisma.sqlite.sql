-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Membership" (
    "teamId" INTEGER NOT NULL,
    "userId" INTEGER NOT NULL,
    "role" TEXT NOT NULL,
    "since" INTEGER NOT NULL DEFAULT 0,

    PRIMARY KEY ("teamId", "userId", "role")
);
INSERT INTO "new_Membership" ("role", "since", "teamId", "userId") SELECT "role", "since", "teamId", "userId" FROM "Membership";
DROP TABLE "Membership";
ALTER TABLE "new_Membership" RENAME TO "Membership";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
