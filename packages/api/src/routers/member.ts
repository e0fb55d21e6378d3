import { leaveWorkspace, listMembers, removeMember, updateMemberRole } from '@kiln/accounts';
import { z } from 'zod';
import { id, role } from '../inputs.ts';
import { router, workspaceProcedure } from '../trpc.ts';

export const memberRouter = router({
  list: workspaceProcedure('workspace.read').query(({ ctx, input }) =>
    listMembers(ctx.db, input.workspaceId),
  ),

  updateRole: workspaceProcedure('member.manage')
    .input(z.object({ userId: id('User'), role }))
    .mutation(async ({ ctx, input }) => {
      const result = await updateMemberRole(
        ctx.db,
        { userId: ctx.user.id, role: ctx.member.role, ip: ctx.ip },
        input.workspaceId,
        input.userId,
        input.role,
      );
      ctx.options.onAccessChanged?.({ workspaceId: input.workspaceId, userId: input.userId });
      return result;
    }),

  remove: workspaceProcedure('member.manage')
    .input(z.object({ userId: id('User') }))
    .mutation(async ({ ctx, input }) => {
      await removeMember(
        ctx.db,
        { userId: ctx.user.id, role: ctx.member.role, ip: ctx.ip },
        input.workspaceId,
        input.userId,
      );
      ctx.options.onAccessChanged?.({ workspaceId: input.workspaceId, userId: input.userId });
      return { ok: true as const };
    }),

  leave: workspaceProcedure('workspace.read').mutation(async ({ ctx, input }) => {
    await leaveWorkspace(
      ctx.db,
      { userId: ctx.user.id, role: ctx.member.role, ip: ctx.ip },
      input.workspaceId,
    );
    ctx.options.onAccessChanged?.({ workspaceId: input.workspaceId, userId: ctx.user.id });
    return { ok: true as const };
  }),
});
