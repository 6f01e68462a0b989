-- DropTable
DROP TABLE "Audit";
