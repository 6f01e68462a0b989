-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Profile" (
    "id" SERIAL NOT NULL,
    "nickname" TEXT,
    "verified" BOOLEAN,
    "age" INTEGER,
    "followers" BIGINT,
    "rating" DOUBLE PRECISION,
    "balance" DECIMAL(65,30),
    "birthday" TIMESTAMP(3),
    "settings" JSONB,
    "avatar" BYTEA,

    CONSTRAINT "Profile_pkey" PRIMARY KEY ("id")
);
