-- AlterTable
ALTER TABLE "User" DROP COLUMN "name",
ADD COLUMN     "full_name" TEXT;
