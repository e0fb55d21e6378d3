import { accountRouter } from './routers/account.ts';
import { apiTokenRouter } from './routers/api-token.ts';
import { auditRouter } from './routers/audit.ts';
import { authRouter } from './routers/auth.ts';
import { billingRouter } from './routers/billing.ts';
import { endpointRouter } from './routers/endpoint.ts';
import { functionFileRouter } from './routers/function-file.ts';
import { imageRouter } from './routers/image.ts';
import { invitationRouter } from './routers/invitation.ts';
import { memberRouter } from './routers/member.ts';
import { notebookRouter } from './routers/notebook.ts';
import { scheduleRouter } from './routers/schedule.ts';
import { secretRouter } from './routers/secret.ts';
import { versionRouter } from './routers/version.ts';
import { volumeRouter } from './routers/volume.ts';
import { workspaceRouter } from './routers/workspace.ts';
import { router } from './trpc.ts';

export const appRouter = router({
  auth: authRouter,
  account: accountRouter,
  workspace: workspaceRouter,
  member: memberRouter,
  invitation: invitationRouter,
  notebook: notebookRouter,
  functionFile: functionFileRouter,
  version: versionRouter,
  apiToken: apiTokenRouter,
  audit: auditRouter,
  secret: secretRouter,
  billing: billingRouter,
  schedule: scheduleRouter,
  volume: volumeRouter,
  image: imageRouter,
  endpoint: endpointRouter,
});

/** The router type the web client is generated from. */
export type AppRouter = typeof appRouter;
