-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateExtension
CREATE EXTENSION IF NOT EXISTS "citext";

-- CreateTable
CREATE TABLE "Contact" (
    "id" UUID NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "nickname" VARCHAR,
    "countryCode" CHAR(3) NOT NULL,
    "bio" TEXT NOT NULL,
    "email" CITEXT NOT NULL,
    "lastIp" INET,
    "vcard" XML,
    "flags" BIT(8),
    "mask" VARBIT(16),

    CONSTRAINT "Contact_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Contact_email_key" ON "Contact"("email");
