-- CreateTable
CREATE TABLE "Café" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "größe" INTEGER NOT NULL,
    "名前" TEXT NOT NULL,
    "straße_" TEXT NOT NULL
);
