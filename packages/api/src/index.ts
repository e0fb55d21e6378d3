export { type Context, type ContextOptions, createContext } from './context.ts';
export {
  DATABASE_UNAVAILABLE_MESSAGE,
  type KilnErrorData,
  RETRY_AFTER_SECONDS,
  setInternalErrorReporter,
  toTRPCError,
} from './error-formatter.ts';
export { type AppRouter, appRouter } from './root.ts';
export { createScheduledEndpointCall } from './scheduled-endpoint-call.ts';
export { createScheduledNotebookRun, type ScheduledRunServices } from './scheduled-run.ts';
export type { EndpointServices, NotebookDocuments, NotebookExecution, VolumeDisks } from './services.ts';
export { CSRF_FAILED_MESSAGE, createCallerFactory } from './trpc.ts';
