-- AlterTable
ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL,
ALTER COLUMN "name" SET DEFAULT 'anonymous';

-- AlterTable
ALTER TABLE "Post" ALTER COLUMN "title" DROP NOT NULL;
