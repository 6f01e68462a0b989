-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "TrainCar" (
    "id" SERIAL NOT NULL,
    "serial" TEXT NOT NULL,
    "nextId" INTEGER,

    CONSTRAINT "TrainCar_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "TrainCar_serial_key" ON "TrainCar"("serial");

-- CreateIndex
CREATE UNIQUE INDEX "TrainCar_nextId_key" ON "TrainCar"("nextId");

-- AddForeignKey
ALTER TABLE "TrainCar" ADD CONSTRAINT "TrainCar_nextId_fkey" FOREIGN KEY ("nextId") REFERENCES "TrainCar"("id") ON DELETE SET NULL ON UPDATE CASCADE;
