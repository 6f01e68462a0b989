-- AlterTable
ALTER TABLE "Team" RENAME CONSTRAINT "Team_pkey" TO "team_pk";

-- AlterTable
ALTER TABLE "Member" RENAME CONSTRAINT "Member_pkey" TO "member_pk";

-- RenameForeignKey
ALTER TABLE "Member" RENAME CONSTRAINT "Member_teamId_fkey" TO "member_team_fk";

-- RenameIndex
ALTER INDEX "Team_code_key" RENAME TO "team_code_unique";
