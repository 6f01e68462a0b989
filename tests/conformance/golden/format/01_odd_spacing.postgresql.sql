-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Camera" (
    "id" SERIAL NOT NULL,
    "brand" TEXT NOT NULL,
    "megapixels" DOUBLE PRECISION NOT NULL DEFAULT 12.5,
    "sold" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "Camera_pkey" PRIMARY KEY ("id")
);
