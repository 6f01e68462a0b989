-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Kayak" (
    "id" INTEGER NOT NULL,
    "length" DOUBLE PRECISION NOT NULL,
    "color" TEXT,

    CONSTRAINT "Kayak_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Kayak_length_idx" ON "Kayak"("length");
