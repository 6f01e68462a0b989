-- AlterTable
ALTER TABLE "Post" ADD COLUMN     "labels" TEXT[],
ADD COLUMN     "scores" INTEGER[] DEFAULT ARRAY[1, 2]::INTEGER[];
