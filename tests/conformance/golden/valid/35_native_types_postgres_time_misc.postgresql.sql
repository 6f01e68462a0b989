-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Appointment" (
    "id" SERIAL NOT NULL,
    "booked" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "localAt" TIMESTAMP(3) NOT NULL,
    "day" DATE NOT NULL,
    "startsAt" TIME(0) NOT NULL,
    "zoned" TIMETZ NOT NULL,
    "metadata" JSON NOT NULL,
    "extras" JSONB NOT NULL DEFAULT '{}',
    "signature" BYTEA NOT NULL,
    "confirmed" BOOLEAN NOT NULL,

    CONSTRAINT "Appointment_pkey" PRIMARY KEY ("id")
);
