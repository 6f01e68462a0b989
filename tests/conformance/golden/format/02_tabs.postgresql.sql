-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Lens" (
    "id" SERIAL NOT NULL,
    "focal" INTEGER NOT NULL,
    "aperture" DOUBLE PRECISION,
    "mount" TEXT NOT NULL DEFAULT 'EF',

    CONSTRAINT "Lens_pkey" PRIMARY KEY ("id")
);
