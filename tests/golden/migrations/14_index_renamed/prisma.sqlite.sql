-- RedefineIndex
DROP INDEX "Post_authorId_idx";
CREATE INDEX "post_author" ON "Post"("authorId");
