export type { Db } from './client.ts';
export { createDb } from './client.ts';
export { Prisma } from './generated/prisma/client.ts';
export type { NotebookKind, PlanTier, Role } from './generated/prisma/enums.ts';
export type * from './generated/prisma/models.ts';
export { isDatabaseUnavailable } from './unavailable.ts';
