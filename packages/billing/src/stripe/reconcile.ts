import type { Db } from '@kiln/db';
import type Stripe from 'stripe';
import { type AlertNotifier, raiseAlert } from '../account/alerts.ts';

export interface Difference {
  workspaceId: string;
  eventName: string;
  kiln: bigint;
  stripe: bigint;
}

/**
 * Compares what Kiln reported per customer and meter over [start, end) (minute-aligned) with Stripe's
 * meter event summaries, and raises an alert for each difference. Run nightly for the day before.
 */
export async function reconcileUsage(
  db: Db,
  stripe: Stripe,
  input: { start: Date; end: Date; meters: Record<string, string>; notify?: AlertNotifier },
): Promise<Difference[]> {
  const totals = await db.usageOutbox.groupBy({
    by: ['workspaceId', 'customerId', 'eventName'],
    where: {
      windowStart: { gte: input.start, lt: input.end },
      status: { in: ['accepted', 'sent', 'pending'] },
    },
    _sum: { value: true },
  });
  const differences: Difference[] = [];
  for (const total of totals) {
    const meter = input.meters[total.eventName];
    if (!meter) continue;
    const summaries = await stripe.billing.meters.listEventSummaries(meter, {
      customer: total.customerId,
      start_time: Math.floor(input.start.getTime() / 1000),
      end_time: Math.floor(input.end.getTime() / 1000),
    });
    const reported = summaries.data.reduce(
      (sum, s) => sum + BigInt(Math.round(Number(s.aggregated_value))),
      0n,
    );
    const kiln = total._sum.value ?? 0n;
    if (reported === kiln) continue;
    const difference = { workspaceId: total.workspaceId, eventName: total.eventName, kiln, stripe: reported };
    differences.push(difference);
    await raiseAlert(
      db,
      {
        id: `reconciliation:${total.workspaceId}:${total.eventName}:${input.start.toISOString()}`,
        workspaceId: total.workspaceId,
        kind: 'reconciliation',
        message: `Usage of ${total.eventName} from ${input.start.toISOString()} to ${input.end.toISOString()}: Kiln reported ${kiln}, Stripe counted ${reported}.`,
      },
      input.notify,
    );
  }
  return differences;
}
