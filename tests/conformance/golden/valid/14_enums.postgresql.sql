-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "order_status" AS ENUM ('pending', 'paid', 'shipped', 'cancelled');

-- CreateEnum
CREATE TYPE "Priority" AS ENUM ('LOW', 'NORMAL', 'HIGH');

-- CreateTable
CREATE TABLE "PurchaseOrder" (
    "id" SERIAL NOT NULL,
    "status" "order_status" NOT NULL DEFAULT 'pending',
    "priority" "Priority" DEFAULT 'NORMAL',
    "previous" "order_status",

    CONSTRAINT "PurchaseOrder_pkey" PRIMARY KEY ("id")
);
