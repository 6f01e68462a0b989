-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Setting" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "name" TEXT NOT NULL DEFAULT 'untitled',
    "quoted" TEXT NOT NULL DEFAULT 'say "hi"
',
    "empty" TEXT NOT NULL DEFAULT '',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "hidden" BOOLEAN NOT NULL DEFAULT false,
    "retries" INTEGER NOT NULL DEFAULT 3,
    "offset" INTEGER NOT NULL DEFAULT -5,
    "quota" BIGINT NOT NULL DEFAULT 9007199254740993,
    "ratio" DOUBLE PRECISION NOT NULL DEFAULT 0.75,
    "whole" DOUBLE PRECISION NOT NULL DEFAULT 2,
    "price" DECIMAL(65,30) NOT NULL DEFAULT 19.99,
    "epoch" TIMESTAMP(3) NOT NULL DEFAULT '1970-01-01 00:00:00 +00:00',
    "config" JSONB NOT NULL DEFAULT '{"theme": "dark", "size": 12}',
    "magic" BYTEA NOT NULL DEFAULT '\x48656c6c6f',

    CONSTRAINT "Setting_pkey" PRIMARY KEY ("id")
);
