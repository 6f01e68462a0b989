-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "billing";

-- CreateEnum
CREATE TYPE "audit"."Level" AS ENUM ('LOW', 'HIGH');

-- AlterTable
ALTER TABLE "audit"."Event" ADD COLUMN     "level" "audit"."Level" NOT NULL DEFAULT 'LOW';

-- CreateTable
CREATE TABLE "billing"."Invoice" (
    "id" SERIAL NOT NULL,
    "userId" INTEGER NOT NULL,

    CONSTRAINT "Invoice_pkey" PRIMARY KEY ("id")
);

-- AddForeignKey
ALTER TABLE "billing"."Invoice" ADD CONSTRAINT "Invoice_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- RenameIndex
ALTER INDEX "audit"."Event_kind_idx" RENAME TO "event_kind";
