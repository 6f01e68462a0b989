-- DropIndex
DROP INDEX "Setting_code_key";

-- AlterTable
ALTER TABLE "Setting" DROP CONSTRAINT "Setting_pkey",
ADD CONSTRAINT "Setting_pkey" PRIMARY KEY ("code");

-- CreateIndex
CREATE UNIQUE INDEX "Setting_key_key" ON "Setting"("key");
