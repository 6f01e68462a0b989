-- AlterTable
ALTER TABLE "Membership" DROP CONSTRAINT "Membership_pkey",
ADD CONSTRAINT "Membership_pkey" PRIMARY KEY ("teamId", "userId", "role");
