import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createDb } from './client.ts';
import { createTestDatabase } from './testing.ts';
import { isDatabaseUnavailable } from './unavailable.ts';

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('isDatabaseUnavailable', () => {
  it('recognises what Prisma throws when no database answers', async () => {
    const db = createDb(`postgresql://postgres@127.0.0.1:${await closedPort()}/nothing`);
    const error = await db.user.count().catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(Error);
    expect(isDatabaseUnavailable(error)).toBe(true);
    await db.$disconnect();
  });

  it('does not take a failed query for an outage', async () => {
    const database = await createTestDatabase();
    try {
      await database.db.signInThrottle.create({ data: { key: 'k', attempts: 1, lastAttempt: new Date() } });
      const duplicate = await database.db.user
        .create({ data: { email: 'a@example.com', name: 'A' } })
        .then(() => database.db.user.create({ data: { email: 'a@example.com', name: 'A' } }))
        .catch((thrown: unknown) => thrown);
      expect(duplicate).toBeInstanceOf(Error);
      expect(isDatabaseUnavailable(duplicate)).toBe(false);
      expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
    } finally {
      await database.drop();
    }
  });
});
