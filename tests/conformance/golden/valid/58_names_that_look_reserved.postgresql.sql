-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Prisma" (
    "id" INTEGER NOT NULL,

    CONSTRAINT "Prisma_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Unsupported" (
    "id" INTEGER NOT NULL,

    CONSTRAINT "Unsupported_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "static" (
    "id" INTEGER NOT NULL,

    CONSTRAINT "static_pkey" PRIMARY KEY ("id")
);
