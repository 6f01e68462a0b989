-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "athletes" (
    "athlete_id" UUID NOT NULL,
    "email_address" VARCHAR(320) NOT NULL,
    "team_id" INTEGER NOT NULL,
    "number" SMALLINT NOT NULL DEFAULT 0,
    "joined" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "athletes_pkey" PRIMARY KEY ("athlete_id")
);

-- CreateTable
CREATE TABLE "Team" (
    "id" SERIAL NOT NULL,

    CONSTRAINT "Team_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "athlete_email_key" ON "athletes"("email_address" DESC);

-- CreateIndex
CREATE INDEX "athlete_team_joined_idx" ON "athletes"("team_id", "joined" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "athlete_team_number_key" ON "athletes"("team_id", "number");

-- AddForeignKey
ALTER TABLE "athletes" ADD CONSTRAINT "athlete_team_fk" FOREIGN KEY ("team_id") REFERENCES "Team"("id") ON DELETE CASCADE ON UPDATE RESTRICT;
