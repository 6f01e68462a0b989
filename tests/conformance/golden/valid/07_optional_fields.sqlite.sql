-- CreateTable
CREATE TABLE "Profile" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "nickname" TEXT,
    "verified" BOOLEAN,
    "age" INTEGER,
    "followers" BIGINT,
    "rating" REAL,
    "balance" DECIMAL,
    "birthday" DATETIME,
    "settings" JSONB,
    "avatar" BLOB
);
