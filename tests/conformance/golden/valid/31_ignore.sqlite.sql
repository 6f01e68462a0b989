-- CreateTable
CREATE TABLE "Gadget" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "legacy" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "LegacyImport" (
    "batch" INTEGER NOT NULL,
    "payload" TEXT NOT NULL
);
