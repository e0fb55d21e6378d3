import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMessage } from '@kiln/kernel-protocol';
import { connectChannel, type JupyterMessage } from '@kiln/kernel-protocol/client';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeDriver, FakeSandbox } from '../../test/fake-driver.ts';
import { eventually, startGateway } from '../../test/harness.ts';
import type { AdoptedSandbox } from '../sandbox/types.ts';
import { KernelRecords } from './kernel-records.ts';

// The registry's side of re-adoption after a gateway restart, with sandboxes whose agents reconnect
// (or never do) exactly when the test says; kernel-adoption.int.test.ts does it with runsc.
const recordDir = mkdtempSync(join(tmpdir(), 'kiln-adoption-unit-'));
afterAll(() => rm(recordDir, { recursive: true, force: true }));

interface Agent {
  sandbox: FakeSandbox;
  answer: () => void;
  fail: (why: string) => void;
  /** Sent by the sandbox the moment it is reconnected, before the agent's hello. */
  first?: string;
}

class AdoptingDriver extends FakeDriver {
  readonly agents = new Map<string, Agent>();

  async adopt(kernelId: string): Promise<AdoptedSandbox> {
    const agent = this.agents.get(kernelId);
    if (!agent) throw new Error('its sandbox is gone');
    const hello = new Promise<{ busy: boolean }>((resolve, reject) => {
      agent.answer = () => resolve({ busy: false });
      agent.fail = (why) => reject(new Error(why));
    });
    const reconnect = () => {
      if (agent.first)
        agent.sandbox.send(
          createMessage('shell', 'execute_request', { code: `print:${agent.first}`, silent: false }),
        );
      return hello;
    };
    return { sandbox: agent.sandbox, hibernated: false, reconnect };
  }
}

describe('re-adopting kernels after a gateway restart', () => {
  it('does not wait for their agents: kernels exist at once, early output reaches the session, and one whose agent fails is stopped with the reason', async () => {
    const driver = new AdoptingDriver();
    const harness = await startGateway({ driver, recordDir });
    const records = new KernelRecords(recordDir, undefined);
    const sessionId = randomUUID();
    const resources = { cpu: 1, memoryMiB: 512, gpu: null };
    const add = async (first?: string) => {
      const id = randomUUID();
      const sandbox = new FakeSandbox({ kernelId: id, workspaceId: harness.workspaceA, resources });
      driver.agents.set(id, { sandbox, answer: () => undefined, fail: () => undefined, first });
      await records.save({
        id,
        name: 'python3',
        workspaceId: harness.workspaceA,
        resources,
        sandboxId: id,
        generation: 0,
        sessionId,
      });
      return id;
    };
    const talkative = await add('printed while the gateway was down');
    const silent = await add();
    const agent = (id: string) => driver.agents.get(id) as Agent;

    const adoption = await harness.gateway.kernels.adopt();
    // Neither agent has answered, and both kernels are there.
    expect([...adoption.adopted].sort()).toEqual([talkative, silent].sort());
    const state = async (id: string) =>
      (await harness.call('GET', `/api/kernels/${id}`, harness.tokenA)).json.execution_state;
    expect(await state(silent)).toBe('starting');

    // What the sandbox sent as it reconnected is kept for the session that was attached before.
    const url = (id: string) => `${harness.wsUrl}/api/kernels/${id}/channels`;
    const back = await connectChannel({ url: url(talkative), token: harness.tokenA, sessionId });
    const seen: JupyterMessage[] = [];
    back.onMessage((message) => seen.push(message));
    await eventually(() =>
      seen.some((message) => message.content.text === 'printed while the gateway was down'),
    );
    // It works while the other kernel's agent is still silent.
    const run = await back.execute('print:hello', { timeoutMs: 5000 });
    expect(run.reply.content.status).toBe('ok');
    agent(talkative).answer();

    const watcher = await connectChannel({ url: url(silent), token: harness.tokenA });
    const told: JupyterMessage[] = [];
    watcher.onMessage((message) => told.push(message));
    agent(silent).fail('its kernel did not answer within 120 s');
    const tally = await adoption.settled;
    expect(tally.adopted).toEqual([talkative]);
    expect(tally.stopped.map((stopped) => stopped.id)).toEqual([silent]);
    await eventually(() => told.some((message) => message.header.msg_type === 'error'));
    const error = told.find((message) => message.header.msg_type === 'error');
    expect(String(error?.content.evalue)).toMatch(
      /could not take this kernel back \(its kernel did not answer within 120 s\)/,
    );
    await watcher.closed;
    const gone = await harness.call('GET', `/api/kernels/${silent}`, harness.tokenA);
    expect(gone.status).toBe(410);
    expect(JSON.stringify(gone.json)).toMatch(/did not answer within 120 s/);
    expect(agent(silent).sandbox.shutdowns).toBe(1);
    expect(await state(talkative)).toBe('idle');
    const listed = (await harness.call('GET', '/api/kernels', harness.tokenA)).json;
    expect(listed.map((kernel: { id: string }) => kernel.id)).toEqual([talkative]);
    await back.close();
  });
});
