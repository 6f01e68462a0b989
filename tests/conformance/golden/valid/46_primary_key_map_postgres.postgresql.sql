-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Country" (
    "code" CHAR(2) NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "country_code_pk" PRIMARY KEY ("code")
);

-- CreateTable
CREATE TABLE "Reading" (
    "sensor" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "reading_pk" PRIMARY KEY ("sensor","at")
);

-- CreateTable
CREATE TABLE "Translation" (
    "key" TEXT NOT NULL,
    "locale" TEXT NOT NULL,
    "text" TEXT NOT NULL,

    CONSTRAINT "translation_pkey" PRIMARY KEY ("key","locale")
);
