-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Kettle" (
    "id" INTEGER NOT NULL,
    "volume" DOUBLE PRECISION NOT NULL,
    "brand" TEXT,

    CONSTRAINT "Kettle_pkey" PRIMARY KEY ("id")
);
