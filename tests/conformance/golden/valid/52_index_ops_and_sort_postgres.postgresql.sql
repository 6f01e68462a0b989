-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Track" (
    "id" SERIAL NOT NULL,
    "title" TEXT NOT NULL,
    "meta" JSONB NOT NULL,
    "genres" TEXT[],
    "duration" INTEGER NOT NULL,
    "released" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Track_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Track_title_duration_idx" ON "Track"("title" DESC, "duration" ASC);

-- CreateIndex
CREATE INDEX "Track_meta_idx" ON "Track" USING GIN ("meta" jsonb_ops);

-- CreateIndex
CREATE INDEX "Track_genres_idx" ON "Track" USING GIN ("genres" array_ops);

-- CreateIndex
CREATE INDEX "Track_released_idx" ON "Track" USING BRIN ("released" timestamp_minmax_ops);

-- CreateIndex
CREATE UNIQUE INDEX "track_title_released_uq" ON "Track"("title", "released" DESC);
