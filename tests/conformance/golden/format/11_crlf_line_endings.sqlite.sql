-- CreateTable
CREATE TABLE "Kettle" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "volume" REAL NOT NULL,
    "brand" TEXT
);
