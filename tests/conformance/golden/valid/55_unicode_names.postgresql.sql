-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Café" (
    "id" INTEGER NOT NULL,
    "größe" INTEGER NOT NULL,
    "名前" TEXT NOT NULL,
    "straße_" TEXT NOT NULL,

    CONSTRAINT "Café_pkey" PRIMARY KEY ("id")
);
