-- AlterTable
ALTER TABLE "Draft" ADD COLUMN     "title" TEXT NOT NULL;
