-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "auth";

-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "billing";

-- CreateEnum
CREATE TYPE "billing"."PlanTier" AS ENUM ('FREE', 'PRO', 'ENTERPRISE');

-- CreateTable
CREATE TABLE "auth"."Login" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,

    CONSTRAINT "Login_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "billing"."charges" (
    "id" SERIAL NOT NULL,
    "tier" "billing"."PlanTier" NOT NULL,
    "loginId" INTEGER NOT NULL,

    CONSTRAINT "charges_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Login_email_key" ON "auth"."Login"("email");

-- AddForeignKey
ALTER TABLE "billing"."charges" ADD CONSTRAINT "charges_loginId_fkey" FOREIGN KEY ("loginId") REFERENCES "auth"."Login"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
