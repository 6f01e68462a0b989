-- CreateTable
CREATE TABLE "Subscription" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "email" TEXT NOT NULL,
    "plan" TEXT NOT NULL,
    "deletedAt" DATETIME
);

-- CreateIndex
CREATE INDEX "Subscription_plan_idx" ON "Subscription"("plan") WHERE "deletedAt" IS NULL;

-- CreateIndex
CREATE UNIQUE INDEX "Subscription_email_key" ON "Subscription"("email") WHERE "deletedAt" IS NULL;
