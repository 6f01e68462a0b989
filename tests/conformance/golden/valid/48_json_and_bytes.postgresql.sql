-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Widget" (
    "id" SERIAL NOT NULL,
    "config" JSONB NOT NULL DEFAULT '{}',
    "layout" JSONB NOT NULL DEFAULT '[1, 2, 3]',
    "caption" JSONB NOT NULL DEFAULT '"hello"',
    "weight" JSONB NOT NULL DEFAULT '42',
    "extra" JSONB,
    "thumbnail" BYTEA NOT NULL DEFAULT '\x',
    "icon" BYTEA DEFAULT '\x69636f6e',

    CONSTRAINT "Widget_pkey" PRIMARY KEY ("id")
);
