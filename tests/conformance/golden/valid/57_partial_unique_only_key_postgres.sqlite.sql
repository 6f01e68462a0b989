-- CreateTable
CREATE TABLE "Subscription" (
    "email" TEXT NOT NULL,
    "deletedAt" DATETIME
);

-- CreateIndex
CREATE UNIQUE INDEX "Subscription_email_key" ON "Subscription"("email") WHERE "deletedAt" IS NULL;
