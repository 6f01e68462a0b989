-- CreateTable
CREATE TABLE "TrainCar" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "serial" TEXT NOT NULL,
    "nextId" INTEGER,
    CONSTRAINT "TrainCar_nextId_fkey" FOREIGN KEY ("nextId") REFERENCES "TrainCar" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "TrainCar_serial_key" ON "TrainCar"("serial");

-- CreateIndex
CREATE UNIQUE INDEX "TrainCar_nextId_key" ON "TrainCar"("nextId");
