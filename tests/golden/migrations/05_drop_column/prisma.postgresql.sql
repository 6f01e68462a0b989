-- AlterTable
ALTER TABLE "User" DROP COLUMN "legacy";
