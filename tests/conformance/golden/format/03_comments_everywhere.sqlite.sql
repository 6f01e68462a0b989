-- CreateTable
CREATE TABLE "Kayak" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "length" REAL NOT NULL,
    "color" TEXT
);

-- CreateIndex
CREATE INDEX "Kayak_length_idx" ON "Kayak"("length");
