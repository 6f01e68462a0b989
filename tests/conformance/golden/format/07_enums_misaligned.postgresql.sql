-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "music_genre" AS ENUM ('rock', 'jazz', 'classical', 'POP');

-- CreateEnum
CREATE TYPE "Format" AS ENUM ('VINYL', 'CD', 'STREAM');

-- CreateTable
CREATE TABLE "Record" (
    "id" INTEGER NOT NULL,
    "genre" "music_genre" NOT NULL DEFAULT 'rock',
    "format" "Format" NOT NULL,

    CONSTRAINT "Record_pkey" PRIMARY KEY ("id")
);
