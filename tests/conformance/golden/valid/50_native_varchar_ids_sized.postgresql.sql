-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Tenant" (
    "id" VARCHAR(36) NOT NULL,
    "slug" VARCHAR(64) NOT NULL,

    CONSTRAINT "Tenant_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Staffer" (
    "id" BIGSERIAL NOT NULL,
    "tenantId" VARCHAR(36) NOT NULL,
    "joinedOn" DATE NOT NULL,
    "hourly" DECIMAL(8,2) NOT NULL,

    CONSTRAINT "Staffer_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Tenant_slug_key" ON "Tenant"("slug");

-- AddForeignKey
ALTER TABLE "Staffer" ADD CONSTRAINT "Staffer_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
