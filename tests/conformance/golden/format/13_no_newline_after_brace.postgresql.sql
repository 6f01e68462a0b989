-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Marble" (
    "id" INTEGER NOT NULL,
    "color" TEXT NOT NULL,

    CONSTRAINT "Marble_pkey" PRIMARY KEY ("id")
);
