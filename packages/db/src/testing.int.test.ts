import { afterAll, describe, expect, it } from 'vitest';
import { exerciseEveryModel, expectedEveryModel } from '../test/every-model.ts';
import { createTestDatabase, type TestDatabase } from './testing.ts';

describe('createTestDatabase', () => {
  const created: TestDatabase[] = [];
  afterAll(async () => {
    await Promise.all(created.map((t) => t.drop()));
  });

  it('gives a migrated database where every model can be written, read and cascade-deleted', async () => {
    const t = await createTestDatabase();
    created.push(t);
    expect(await exerciseEveryModel(t.db, 'a')).toEqual(expectedEveryModel('a'));
  });

  it('gives each caller its own database, and drop() removes it', async () => {
    const [one, two] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    created.push(one, two);
    expect(one.url).not.toEqual(two.url);
    await one.db.user.create({ data: { email: 'only-in-one@example.com', name: 'One' } });
    expect(await two.db.user.count()).toBe(0);
    await one.drop();
    const reopened = await import('./client.ts').then(({ createDb }) => createDb(one.url, { max: 1 }));
    await expect(reopened.user.count()).rejects.toThrow(/does not exist/);
    await reopened.$disconnect();
  });
});
