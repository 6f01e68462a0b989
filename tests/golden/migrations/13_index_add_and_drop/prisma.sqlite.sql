-- DropIndex
DROP INDEX "Post_authorId_idx";

-- CreateIndex
CREATE INDEX "User_name_age_idx" ON "User"("name", "age");

-- CreateIndex
CREATE INDEX "Post_views_title_idx" ON "Post"("views", "title");
