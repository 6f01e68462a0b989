-- DropTable
PRAGMA foreign_keys=off;
DROP TABLE "Audit";
PRAGMA foreign_keys=on;
