-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Place" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "location" point,
    "area" polygon,
    "search" tsvector DEFAULT ''::tsvector,

    CONSTRAINT "Place_pkey" PRIMARY KEY ("id")
);
