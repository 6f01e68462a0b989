-- AlterTable
ALTER TABLE "User" DROP COLUMN "score",
ADD COLUMN     "score" INTEGER;
