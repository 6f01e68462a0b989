-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "http_method" AS ENUM ('get', 'post', 'put', 'delete');

-- CreateTable
CREATE TABLE "api_route" (
    "route_id" SERIAL NOT NULL,
    "http_verb" "http_method" NOT NULL,
    "path_2" TEXT NOT NULL,

    CONSTRAINT "api_route_pkey" PRIMARY KEY ("route_id")
);

-- CreateTable
CREATE TABLE "rate_limit_v2" (
    "id" SERIAL NOT NULL,
    "route_id" INTEGER NOT NULL,
    "per_min" INTEGER NOT NULL,

    CONSTRAINT "rate_limit_v2_pkey" PRIMARY KEY ("id")
);

-- AddForeignKey
ALTER TABLE "rate_limit_v2" ADD CONSTRAINT "rate_limit_v2_route_id_fkey" FOREIGN KEY ("route_id") REFERENCES "api_route"("route_id") ON DELETE RESTRICT ON UPDATE CASCADE;
