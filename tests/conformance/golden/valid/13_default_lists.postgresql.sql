-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "Channel" AS ENUM ('EMAIL', 'SMS', 'PUSH');

-- CreateTable
CREATE TABLE "NotificationPref" (
    "id" SERIAL NOT NULL,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "keywords" TEXT[] DEFAULT ARRAY['news', 'sale']::TEXT[],
    "quietHrs" INTEGER[] DEFAULT ARRAY[22, 23, 0, 1]::INTEGER[],
    "ratios" DOUBLE PRECISION[] DEFAULT ARRAY[0.5, 1.5]::DOUBLE PRECISION[],
    "toggles" BOOLEAN[] DEFAULT ARRAY[true, false]::BOOLEAN[],
    "channels" "Channel"[] DEFAULT ARRAY['EMAIL', 'PUSH']::"Channel"[],

    CONSTRAINT "NotificationPref_pkey" PRIMARY KEY ("id")
);
