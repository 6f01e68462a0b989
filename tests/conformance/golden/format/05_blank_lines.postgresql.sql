-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Bakery" (
    "id" INTEGER NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "Bakery_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Bread" (
    "id" INTEGER NOT NULL,
    "bakeryId" INTEGER NOT NULL,

    CONSTRAINT "Bread_pkey" PRIMARY KEY ("id")
);

-- AddForeignKey
ALTER TABLE "Bread" ADD CONSTRAINT "Bread_bakeryId_fkey" FOREIGN KEY ("bakeryId") REFERENCES "Bakery"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
