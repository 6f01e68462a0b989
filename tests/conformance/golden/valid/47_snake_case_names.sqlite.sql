-- CreateTable
CREATE TABLE "api_route" (
    "route_id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "http_verb" TEXT NOT NULL,
    "path_2" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "rate_limit_v2" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "route_id" INTEGER NOT NULL,
    "per_min" INTEGER NOT NULL,
    CONSTRAINT "rate_limit_v2_route_id_fkey" FOREIGN KEY ("route_id") REFERENCES "api_route" ("route_id") ON DELETE RESTRICT ON UPDATE CASCADE
);
