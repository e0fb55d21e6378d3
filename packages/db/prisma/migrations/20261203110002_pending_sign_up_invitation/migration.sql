-- AlterTable
ALTER TABLE "PendingSignUp" ADD COLUMN     "invitationId" UUID;

-- AddForeignKey
ALTER TABLE "PendingSignUp" ADD CONSTRAINT "PendingSignUp_invitationId_fkey" FOREIGN KEY ("invitationId") REFERENCES "Invitation"("id") ON DELETE SET NULL ON UPDATE CASCADE;
