export { type Context, type ContextOptions, createContext } from './context.ts';
export {
  DATABASE_UNAVAILABLE_MESSAGE,
  type KilnErrorData,
  RETRY_AFTER_SECONDS,
  setInternalErrorReporter,
  toTRPCError,
} from './error-formatter.ts';
export { type AppRouter, appRouter } from './root.ts';
export { createScheduledNotebookRun, type ScheduledRunServices } from './scheduled-run.ts';
export type { NotebookDocuments, NotebookExecution } from './services.ts';
export { CSRF_FAILED_MESSAGE, createCallerFactory } from './trpc.ts';
