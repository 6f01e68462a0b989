-- CreateTable
CREATE TABLE "Forum" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "title" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "Thread" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "forumId" INTEGER NOT NULL
);

-- CreateIndex
CREATE INDEX "Thread_forumId_idx" ON "Thread"("forumId");
