-- CreateTable
CREATE TABLE "Camera" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "brand" TEXT NOT NULL,
    "megapixels" REAL NOT NULL DEFAULT 12.5,
    "sold" BOOLEAN NOT NULL DEFAULT false
);
