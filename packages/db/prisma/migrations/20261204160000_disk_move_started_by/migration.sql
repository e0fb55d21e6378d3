-- Who started a disk move, so the move dialog can say whose move is running (null: started before this
-- column, or by a user since deleted).
ALTER TABLE "DiskMove" ADD COLUMN "startedById" UUID;
