-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "Weekday" AS ENUM ('MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN');

-- CreateTable
CREATE TABLE "Schedule" (
    "id" SERIAL NOT NULL,
    "labels" TEXT[],
    "flags" BOOLEAN[],
    "slots" INTEGER[],
    "counters" BIGINT[],
    "weights" DOUBLE PRECISION[],
    "prices" DECIMAL(65,30)[],
    "holidays" TIMESTAMP(3)[],
    "documents" JSONB[],
    "blobs" BYTEA[],
    "openDays" "Weekday"[],

    CONSTRAINT "Schedule_pkey" PRIMARY KEY ("id")
);
