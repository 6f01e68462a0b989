-- CreateTable
CREATE TABLE "LogEntry" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "level" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "message" TEXT NOT NULL,
    "traceId" TEXT NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "LogEntry_traceId_key" ON "LogEntry"("traceId" DESC);

-- CreateIndex
CREATE INDEX "LogEntry_level_idx" ON "LogEntry"("level");

-- CreateIndex
CREATE INDEX "log_source_time_idx" ON "LogEntry"("source", "createdAt");

-- CreateIndex
CREATE INDEX "log_message_idx" ON "LogEntry"("message");

-- CreateIndex
CREATE INDEX "LogEntry_level_createdAt_idx" ON "LogEntry"("level", "createdAt" DESC);
