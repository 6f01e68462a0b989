-- CreateTable
CREATE TABLE "Parcel" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "weight" INTEGER NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'WAITING'
);

-- CreateIndex
CREATE INDEX "Parcel_state_idx" ON "Parcel"("state");
