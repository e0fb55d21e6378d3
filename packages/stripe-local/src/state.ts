import { randomBytes } from 'node:crypto';

// Stripe objects are plain JSON; the server keeps them as such.
export type StripeObject = Record<string, unknown> & { id: string; object: string };

export interface MeterEventRecord {
  identifier: string;
  eventName: string;
  customer: string;
  value: number;
  timestamp: number;
  /** When Stripe received it: identifiers are unique within a rolling 24 h of this. */
  receivedAt: number;
}

/** Everything the local server remembers, per object kind, in creation order. */
export class StripeState {
  readonly objects = new Map<string, StripeObject>();
  readonly meterEvents: MeterEventRecord[] = [];
  readonly meterIdentifiers = new Map<string, MeterEventRecord>();
  readonly idempotency = new Map<string, { fingerprint: string; status: number; body: string }>();
  readonly events: StripeObject[] = [];

  constructor(readonly clock: () => number) {}

  /** Seconds since the epoch, as Stripe timestamps are. */
  now(): number {
    return Math.floor(this.clock() / 1000);
  }

  create<T extends Record<string, unknown>>(prefix: string, object: string, fields: T): StripeObject & T {
    const id = `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
    const created = { id, object, created: this.now(), livemode: false, ...fields } as StripeObject & T;
    this.objects.set(id, created);
    return created;
  }

  get(id: string, object: string): StripeObject | undefined {
    const found = this.objects.get(id);
    return found?.object === object ? found : undefined;
  }

  list(object: string, where: (o: StripeObject) => boolean = () => true): StripeObject[] {
    return [...this.objects.values()].filter((o) => o.object === object && where(o));
  }
}

export function listOf(data: unknown[], url: string) {
  return { object: 'list', data, has_more: false, url };
}
