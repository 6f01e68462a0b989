-- CreateTable
CREATE TABLE "Lens" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "focal" INTEGER NOT NULL,
    "aperture" REAL,
    "mount" TEXT NOT NULL DEFAULT 'EF'
);
