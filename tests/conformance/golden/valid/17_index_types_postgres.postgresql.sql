-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Event" (
    "id" SERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "labels" TEXT[],
    "clientIp" INET NOT NULL,
    "happened" TIMESTAMP(3) NOT NULL,
    "path" TEXT NOT NULL,

    CONSTRAINT "Event_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Event_kind_idx" ON "Event"("kind");

-- CreateIndex
CREATE INDEX "event_kind_hash_idx" ON "Event" USING HASH ("kind");

-- CreateIndex
CREATE INDEX "Event_payload_idx" ON "Event" USING GIN ("payload" jsonb_path_ops);

-- CreateIndex
CREATE INDEX "Event_labels_idx" ON "Event" USING GIN ("labels");

-- CreateIndex
CREATE INDEX "Event_clientIp_idx" ON "Event" USING GIST ("clientIp" inet_ops);

-- CreateIndex
CREATE INDEX "Event_happened_idx" ON "Event" USING BRIN ("happened");

-- CreateIndex
CREATE INDEX "Event_path_idx" ON "Event" USING SPGIST ("path");
