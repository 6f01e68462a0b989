-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "seats" (
    "row" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "venueId" INTEGER NOT NULL,
    "id" SERIAL NOT NULL,

    CONSTRAINT "seats_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "seats_venueId_idx" ON "seats"("venueId");

-- CreateIndex
CREATE INDEX "seat_row_idx" ON "seats"("row");

-- CreateIndex
CREATE UNIQUE INDEX "seats_row_number_key" ON "seats"("row", "number");
