import { defineConfig } from 'prisma/config';

// The URL is only needed by `prisma migrate deploy` where the native engine can be downloaded;
// Kiln applies migrations itself (src/migrate.ts).
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/kiln' },
});
