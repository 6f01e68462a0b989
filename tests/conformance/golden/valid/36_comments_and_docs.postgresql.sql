-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "ParcelState" AS ENUM ('WAITING', 'MOVING', 'DONE');

-- CreateTable
CREATE TABLE "Parcel" (
    "id" SERIAL NOT NULL,
    "weight" INTEGER NOT NULL,
    "state" "ParcelState" NOT NULL DEFAULT 'WAITING',

    CONSTRAINT "Parcel_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Parcel_state_idx" ON "Parcel"("state");
