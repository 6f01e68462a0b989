-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Album" (
    "id" SERIAL NOT NULL,
    "title" TEXT NOT NULL,

    CONSTRAINT "Album_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Snap" (
    "id" SERIAL NOT NULL,
    "albumId" INTEGER NOT NULL,

    CONSTRAINT "Snap_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Snap_albumId_idx" ON "Snap"("albumId");
