-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "Difficulty" AS ENUM ('EASY', 'HARD');

-- CreateTable
CREATE TABLE "Trail" (
    "id" INTEGER NOT NULL,
    "level" "Difficulty" NOT NULL,
    "km" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "Trail_pkey" PRIMARY KEY ("id")
);
