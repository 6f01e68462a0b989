-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "LedgerLine" (
    "id" SERIAL NOT NULL,
    "line" SMALLINT NOT NULL,
    "blob" OID,
    "bigRef" BIGINT NOT NULL,
    "rate" REAL NOT NULL,
    "precise" DOUBLE PRECISION NOT NULL,
    "amount" DECIMAL(10,2) NOT NULL,
    "raw" DECIMAL NOT NULL,
    "cash" MONEY NOT NULL,

    CONSTRAINT "LedgerLine_pkey" PRIMARY KEY ("id")
);
