'use client';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { formatMicros } from '../../lib/money.ts';
import { useTRPC } from '../../lib/trpc.ts';

/** The running kernel's cost so far and its rate, from the ledger; counts up between refreshes. */
export function KernelCost({ workspaceId, notebookId }: { workspaceId: string; notebookId: string }) {
  const trpc = useTRPC();
  const cost = useQuery({
    ...trpc.billing.kernelCost.queryOptions({ workspaceId, notebookId }),
    refetchInterval: 15_000,
  });
  const [now, setNow] = useState(() => Date.now());
  const running = cost.data?.running ?? false;
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);
  if (!cost.data?.running) return null;
  const since = Math.max(0, now - new Date(cost.data.at).getTime());
  const sofar = cost.data.costMicros + (cost.data.ratePerHourMicros * since) / 3_600_000;
  return (
    <span
      className="small nowrap"
      data-testid="kernel-cost"
      title="Cost of this kernel since it started, and its rate"
    >
      {formatMicros(sofar, { precise: true })} · {formatMicros(cost.data.ratePerHourMicros)}/h
    </span>
  );
}
