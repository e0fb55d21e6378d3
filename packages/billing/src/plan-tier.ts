/** Mirrors the PlanTier enum of the database schema without importing the Prisma client. */
export type PlanTier = 'STARTER' | 'TEAM' | 'ENTERPRISE';
