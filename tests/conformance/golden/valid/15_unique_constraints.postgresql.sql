-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Customer" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "tenant" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "phone" TEXT NOT NULL,
    "country" TEXT NOT NULL,
    "vatId" TEXT NOT NULL,

    CONSTRAINT "Customer_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Customer_email_key" ON "Customer"("email");

-- CreateIndex
CREATE UNIQUE INDEX "customer_username_key" ON "Customer"("username");

-- CreateIndex
CREATE UNIQUE INDEX "Customer_tenant_code_key" ON "Customer"("tenant", "code");

-- CreateIndex
CREATE UNIQUE INDEX "Customer_tenant_phone_key" ON "Customer"("tenant", "phone");

-- CreateIndex
CREATE UNIQUE INDEX "customer_vat_uq" ON "Customer"("country", "vatId");

-- CreateIndex
CREATE UNIQUE INDEX "customer_tenant_email_uq" ON "Customer"("tenant", "email");
