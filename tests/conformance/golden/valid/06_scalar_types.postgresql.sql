-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Measurement" (
    "id" INTEGER NOT NULL,
    "label" TEXT NOT NULL,
    "active" BOOLEAN NOT NULL,
    "count" INTEGER NOT NULL,
    "bigCount" BIGINT NOT NULL,
    "ratio" DOUBLE PRECISION NOT NULL,
    "amount" DECIMAL(65,30) NOT NULL,
    "takenAt" TIMESTAMP(3) NOT NULL,
    "payload" JSONB NOT NULL,
    "rawSample" BYTEA NOT NULL,

    CONSTRAINT "Measurement_pkey" PRIMARY KEY ("id")
);
