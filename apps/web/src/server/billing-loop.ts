import type { Mailer } from '@kiln/accounts';
import {
  type AlertNotifier,
  createMeter,
  enforceCaps,
  reconcileUsage,
  rollupUsage,
  type StripeBilling,
  sendOutbox,
} from '@kiln/billing';
import type { Db } from '@kiln/db';
import { createScheduler } from '@kiln/scheduler';

export interface BillingLoopOptions {
  db: Db;
  mailer: Mailer | null;
  appUrl: string;
  /** Where usage is reported, rolled up about once a minute. */
  stripe: StripeBilling;
  /** At most 15 s, so a crash loses at most one heartbeat of usage. */
  intervalMs?: number;
  /**
   * Hibernates a running container (variables kept) when its workspace is past its credits or hard
   * cap (new runs are refused by the API meanwhile). Without it, only new runs are refused.
   */
  hibernate?: (containerId: string, reason: string) => Promise<void>;
  onError?: (error: unknown) => void;
}

/**
 * The web process's billing work: move container events and node heartbeats into the usage ledger,
 * close slices orphaned by dead processes, raise budget alerts (by email when SMTP is configured)
 * and pause workspaces past their caps. Every step is idempotent, so each web process may run it.
 */
export function startBillingLoop(options: BillingLoopOptions): { close(): Promise<void> } {
  const { db } = options;
  const scheduler = createScheduler({ db });
  const meter = createMeter({ db, events: (cursor, limit) => scheduler.eventsAfter(cursor, limit) });
  const notify: AlertNotifier | undefined = options.mailer
    ? async (alert) => {
        const admins = await db.membership.findMany({
          where: { workspaceId: alert.workspaceId, role: { in: ['OWNER', 'ADMIN'] } },
          select: { user: { select: { email: true } } },
        });
        for (const admin of admins)
          await options.mailer?.send({
            to: admin.user.email,
            subject: 'Kiln: a billing alert for your workspace',
            text: `${alert.message}\n\nSee the Usage page: ${options.appUrl}\n`,
          });
      }
    : undefined;
  let running: Promise<void> = Promise.resolve();
  let lastReport = 0;
  let reconciledDay = '';
  const pass = async () => {
    await meter.tick();
    await enforceCaps({
      db,
      notify,
      hibernate: options.hibernate ?? (async () => undefined),
      onHibernateFailed: (id, error) =>
        (options.onError ?? console.error)(
          new Error(`could not pause kernel ${id} at its cap`, { cause: error }),
        ),
    });
    if (Date.now() - lastReport < 60_000) return;
    lastReport = Date.now();
    await rollupUsage(db, new Date());
    await sendOutbox(db, options.stripe.stripe, new Date(), { notify });
    // Nightly: yesterday's reported usage against Stripe's meter event summaries.
    const today = new Date().toISOString().slice(0, 10);
    if (reconciledDay === today) return;
    const end = new Date(`${today}T00:00:00Z`);
    const start = new Date(end.getTime() - 86_400_000);
    const { meters } = await options.stripe.catalog(db);
    await reconcileUsage(db, options.stripe.stripe, { start, end, meters, notify });
    reconciledDay = today;
  };
  const timer = setInterval(() => {
    running = running.then(pass).catch((error: unknown) => (options.onError ?? console.error)(error));
  }, options.intervalMs ?? 5_000);
  timer.unref();
  return {
    async close() {
      clearInterval(timer);
      await running;
      await scheduler.close();
    },
  };
}
