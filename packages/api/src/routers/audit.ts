import { listAudit } from '@kiln/accounts';
import { z } from 'zod';
import { id } from '../inputs.ts';
import { router, workspaceProcedure } from '../trpc.ts';

export const auditRouter = router({
  list: workspaceProcedure('audit.read')
    .input(z.object({ cursor: id('Cursor').nullish() }))
    .query(({ ctx, input }) => listAudit(ctx.db, input.workspaceId, { cursor: input.cursor })),
});
