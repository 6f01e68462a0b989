-- CreateTable
CREATE TABLE "Measurement" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "label" TEXT NOT NULL,
    "active" BOOLEAN NOT NULL,
    "count" INTEGER NOT NULL,
    "bigCount" BIGINT NOT NULL,
    "ratio" REAL NOT NULL,
    "amount" DECIMAL NOT NULL,
    "takenAt" DATETIME NOT NULL,
    "payload" JSONB NOT NULL,
    "rawSample" BLOB NOT NULL
);
