export { createDb } from './client.ts';
export type { Db } from './client.ts';
export { Prisma } from './generated/prisma/client.ts';
export type { Role, PlanTier } from './generated/prisma/enums.ts';
export type * from './generated/prisma/models.ts';
