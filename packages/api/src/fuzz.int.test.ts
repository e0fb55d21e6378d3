import { createSession } from '@kiln/accounts';
import type { TestDatabase } from '@kiln/db/testing';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, createTeam, type Team, withDatabase } from '../test/harness.ts';
import { createTestServices, type TestServices } from '../test/services.ts';
import { appRouter } from './root.ts';

const INPUTS_PER_PROCEDURE = 16;
const MEGABYTE = 'x'.repeat(1024 * 1024);
const FIELDS = [
  'workspaceId',
  'notebookId',
  'userId',
  'invitationId',
  'tokenId',
  'cursor',
  'name',
  'email',
  'password',
  'currentPassword',
  'newPassword',
  'slug',
  'confirm',
  'token',
  'role',
  'expiresInDays',
  'versionId',
  'cellIds',
  'cellId',
  'mode',
  'value',
  'cpu',
  'memoryMiB',
  'gpu',
  'content',
  'code',
  'cursorPos',
  'detailLevel',
  'secretId',
  'secretIds',
  'values',
  'remove',
  'scheduleId',
  'timing',
  'paused',
  'maxRetries',
  'retryDelaySeconds',
];

const NASTY: unknown[] = [
  'nul\u0000byte',
  '\ud800 lone surrogate',
  MEGABYTE,
  '\'; DROP TABLE "User"; --',
  'ℌ𝔢𝔩𝔩𝔬 👩‍👩‍👧',
  null,
  { nested: [{ deeper: null }] },
];

/** A small deterministic PRNG (mulberry32), so a failure reproduces with the same seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generator(seed: number, team: Team) {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const uuid = () =>
    '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) =>
      (Number(c) ^ (Math.floor(random() * 256) & (15 >> (Number(c) / 4)))).toString(16),
    );
  const scalar = (): unknown =>
    pick([
      () => null,
      () => undefined,
      () => true,
      () => 0,
      () => -1,
      () => 1e308,
      () => Number.NaN,
      () => Number.POSITIVE_INFINITY,
      () => 2 ** 53 + 1,
      () => '',
      () => '   ',
      () => MEGABYTE,
      () => 'ℌ𝔢𝔩𝔩𝔬 👩‍👩‍👧 עברית',
      () => 'nul\u0000byte',
      () => '\ud800 lone surrogate',
      () => '\'; DROP TABLE "User"; --',
      () => "' OR '1'='1",
      () => '../../etc/passwd',
      () => '<script>alert(1)</script>',
      () => '%00%ff%fe',
      () => 'kiln_notarealtoken',
      () => uuid(),
      () => uuid().toUpperCase(),
      () => team.workspace.id,
      () => team.workspace.slug,
      () => team.notebookId,
      () => team.versionId,
      () => team.otherVersionId,
      () => 'all',
      () => 'import os\nos.pa',
      () => 15,
      () => 1,
      () => 'below',
      () => 0.125,
      () => 4096,
      () => 'H100:2',
      () => ['A100', 'h100:9'],
      () => '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code"}]}',
      () => '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}',
      () => team.users.target.id,
      () => team.invitation.id,
      () => team.tokens.owner.id,
      () => 'OWNER',
      () => 'VIEWER',
      () => 'admin',
      () => 'a@b.co',
      () => `${'a'.repeat(250)}@example.com`,
      () => 'correct horse battery staple',
      () => new Date(Number.NaN),
      () => [],
      () => ({}),
      () => ({ API_KEY: 'value-1234', LD_PRELOAD: '/x.so' }),
      () => ({ kind: 'cron', expression: '0 6 * * *', timeZone: 'Europe/Berlin' }),
      () => ({ kind: 'cron', expression: '* * * * * *', timeZone: 'Mars/Olympus' }),
      () => ({ kind: 'period', seconds: 60 }),
    ])();
  const junk = (depth: number): unknown => {
    const roll = random();
    if (depth > 3 || roll < 0.5) return scalar();
    if (roll < 0.75) return Array.from({ length: Math.floor(random() * 4) }, () => junk(depth + 1));
    const object: Record<string, unknown> = {};
    for (let i = 0; i < 3; i++) object[pick([...FIELDS, '__proto__', 'constructor', 'x'])] = junk(depth + 1);
    return object;
  };
  /** Objects shaped like real inputs, with each field drawn from the junk pool or left out. */
  const shaped = (): unknown => {
    const object: Record<string, unknown> = {};
    for (const field of FIELDS) if (random() < 0.5) object[field] = random() < 0.8 ? scalar() : junk(1);
    if (random() < 0.7) object.workspaceId = team.workspace.id;
    return object;
  };
  return () => (random() < 0.3 ? junk(0) : shaped());
}

let t: TestDatabase;
let services: TestServices;
beforeAll(async () => {
  t = await withDatabase({ max: 8 });
  // With a database: the secrets vault and schedules are real, so their procedures are fuzzed deep.
  services = createTestServices(undefined, { db: t.db });
});
afterAll(async () => {
  await services?.close();
  await t?.drop();
});

describe('fuzzing every procedure', () => {
  const paths = Object.keys(appRouter._def.procedures).sort();

  it.each(paths)('%s never answers INTERNAL_SERVER_ERROR', async (path) => {
    const team = await createTeam(t.db, services.services);
    const owner = team.browsers.owner;
    const signedOut = new Browser(t.db, { services: services.services });
    const script = new Browser(t.db, { apiToken: team.tokens.admin.token, services: services.services });
    const next = generator(paths.indexOf(path) + 1, team);
    const isQuery =
      (appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>)[path]?._def
        .type === 'query';
    const failures: { input: string; code: string; message: string }[] = [];
    for (let i = 0; i < INPUTS_PER_PROCEDURE; i++) {
      const input = next();
      for (const browser of i % 4 === 0 ? [owner, signedOut] : i % 4 === 2 ? [owner, script] : [owner]) {
        // Keep the owner signed in and an owner, so the fuzzing reaches deep into every procedure.
        if (!owner.sessionToken)
          owner.sessionToken = (await createSession(t.db, { userId: team.users.owner.id })).token;
        const procedure = path
          .split('.')
          .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], browser.api);
        try {
          await (procedure as (input: unknown) => Promise<unknown>)(input);
        } catch (error) {
          const code = error instanceof TRPCError ? error.code : 'NOT_A_TRPC_ERROR';
          if (code === 'INTERNAL_SERVER_ERROR' || code === 'NOT_A_TRPC_ERROR') {
            failures.push({
              input: JSON.stringify(input)?.slice(0, 300) ?? String(input),
              code,
              message: String(error),
            });
          } else {
            expect((error as Error).message.length).toBeGreaterThan(0);
            expect((error as Error).message.length).toBeLessThan(2000);
          }
        }
      }
      if (isQuery) continue;
      await t.db.membership
        .upsert({
          where: { workspaceId_userId: { workspaceId: team.workspace.id, userId: team.users.owner.id } },
          create: { workspaceId: team.workspace.id, userId: team.users.owner.id, role: 'OWNER' },
          update: { role: 'OWNER' },
        })
        .catch(() => undefined);
    }
    // A systematic sweep besides the random one: each nasty value in every field at once.
    for (const nasty of NASTY) {
      if (!owner.sessionToken)
        owner.sessionToken = (await createSession(t.db, { userId: team.users.owner.id })).token;
      const input = Object.fromEntries(FIELDS.map((field) => [field, nasty]));
      input.workspaceId = team.workspace.id;
      const procedure = path
        .split('.')
        .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], owner.api);
      const code = await (procedure as (input: unknown) => Promise<unknown>)(input).then(
        () => 'OK',
        (error: unknown) => (error instanceof TRPCError ? error.code : 'NOT_A_TRPC_ERROR'),
      );
      if (code === 'INTERNAL_SERVER_ERROR' || code === 'NOT_A_TRPC_ERROR') {
        failures.push({ input: JSON.stringify(nasty).slice(0, 80), code, message: 'sweep' });
      }
    }
    expect(failures).toEqual([]);
  });
});
