-- CreateTable
CREATE TABLE "Flight" (
    "airline" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "date" DATETIME NOT NULL,

    PRIMARY KEY ("airline", "number")
);

-- CreateTable
CREATE TABLE "Seat" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "airline" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "row" INTEGER NOT NULL,
    CONSTRAINT "Seat_airline_number_fkey" FOREIGN KEY ("airline", "number") REFERENCES "Flight" ("airline", "number") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Booking" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "airline" TEXT NOT NULL,
    "date" DATETIME NOT NULL,
    "number" INTEGER NOT NULL,
    CONSTRAINT "Booking_airline_date_number_fkey" FOREIGN KEY ("airline", "date", "number") REFERENCES "Flight" ("airline", "date", "number") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "Flight_airline_date_number_key" ON "Flight"("airline", "date", "number");
