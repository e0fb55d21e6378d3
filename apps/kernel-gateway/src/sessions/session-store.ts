import { randomUUID } from 'node:crypto';
import { DomainError } from '@kiln/core';
import type { Kernel } from '../kernels/kernel.ts';
import type { KernelRegistry, StartKernelRequest } from '../kernels/kernel-registry.ts';

interface SessionRecord {
  id: string;
  workspaceId: string;
  path: string;
  name: string;
  type: string;
  kernelId: string;
}

/** What a session may change or be created with. */
export interface SessionInput {
  path?: string;
  name?: string;
  type?: string;
  kernel?: { id?: string } & Partial<StartKernelRequest>;
}

/** Jupyter sessions (path -> kernel), scoped per workspace; a session disappears with its kernel. */
export class SessionStore {
  private readonly sessions = new Map<string, SessionRecord>();

  constructor(private readonly kernels: KernelRegistry) {
    kernels.onRemoved((kernel) => {
      for (const [id, session] of this.sessions) if (session.kernelId === kernel.id) this.sessions.delete(id);
    });
  }

  model(session: SessionRecord) {
    const kernel = this.kernels.get(session.workspaceId, session.kernelId);
    return {
      id: session.id,
      path: session.path,
      name: session.name,
      type: session.type,
      kernel: kernel.model(),
      notebook: { path: session.path, name: session.name },
    };
  }

  list(workspaceId: string) {
    return [...this.sessions.values()].filter((s) => s.workspaceId === workspaceId).map((s) => this.model(s));
  }

  get(workspaceId: string, id: string): SessionRecord {
    const session = this.sessions.get(id);
    if (!session || session.workspaceId !== workspaceId) {
      throw new DomainError('NOT_FOUND', `Session not found: ${id}`);
    }
    return session;
  }

  /** Creates a session, or returns the existing one for the same path (Jupyter's behaviour). */
  async create(
    workspaceId: string,
    input: SessionInput,
    start: (kernel: SessionInput['kernel']) => Promise<Kernel>,
  ) {
    const path = input.path ?? '';
    const existing = [...this.sessions.values()].find(
      (s) => s.workspaceId === workspaceId && s.path === path,
    );
    if (existing && path !== '') return this.model(existing);
    const kernel = await this.kernelFor(workspaceId, input.kernel, start);
    const session: SessionRecord = {
      id: randomUUID(),
      workspaceId,
      path,
      name: input.name ?? '',
      type: input.type ?? 'notebook',
      kernelId: kernel.id,
    };
    this.sessions.set(session.id, session);
    return this.model(session);
  }

  /** Renames/moves a session or swaps its kernel (a new kernel name starts a kernel and stops the old one). */
  async update(
    workspaceId: string,
    id: string,
    input: SessionInput,
    start: (kernel: SessionInput['kernel']) => Promise<Kernel>,
  ) {
    const session = this.get(workspaceId, id);
    if (input.path !== undefined) session.path = input.path;
    if (input.name !== undefined) session.name = input.name;
    if (input.type !== undefined) session.type = input.type;
    if (input.kernel) {
      const previous = session.kernelId;
      const kernel = await this.kernelFor(workspaceId, input.kernel, start);
      session.kernelId = kernel.id;
      if (!input.kernel.id && previous !== kernel.id) {
        await this.kernels.shutdown(workspaceId, previous).catch(() => undefined);
      }
    }
    return this.model(session);
  }

  async delete(workspaceId: string, id: string): Promise<void> {
    const session = this.get(workspaceId, id);
    this.sessions.delete(id);
    await this.kernels.shutdown(workspaceId, session.kernelId).catch(() => undefined);
  }

  private async kernelFor(
    workspaceId: string,
    kernel: SessionInput['kernel'],
    start: (kernel: SessionInput['kernel']) => Promise<Kernel>,
  ): Promise<Kernel> {
    if (kernel?.id) return this.kernels.get(workspaceId, kernel.id);
    return start(kernel);
  }
}
