'use client';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTRPC } from '../../lib/trpc.ts';
import { ErrorAlert } from '../status.tsx';

/** Admins set the monthly budget (alerts at 80 % and 100 %) and whether it is a hard cap. */
export function BudgetForm(props: {
  workspaceId: string;
  budget: { amountMicros: number; hardCap: boolean } | null;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [amount, setAmount] = useState(props.budget ? String(props.budget.amountMicros / 1e6) : '');
  const [hardCap, setHardCap] = useState(props.budget?.hardCap ?? false);
  const save = useMutation(
    trpc.billing.setBudget.mutationOptions({
      onSuccess: () =>
        queryClient.invalidateQueries({
          queryKey: trpc.billing.usage.queryKey({ workspaceId: props.workspaceId }),
        }),
    }),
  );
  return (
    <form
      className="budget-form"
      onSubmit={(event) => {
        event.preventDefault();
        const dollars = amount.trim() === '' ? null : Number(amount);
        save.mutate({
          workspaceId: props.workspaceId,
          amountCents: dollars === null || Number.isNaN(dollars) ? null : Math.round(dollars * 100),
          hardCap,
        });
      }}
    >
      <label>
        Monthly budget (USD)
        <input
          aria-label="Monthly budget in dollars"
          inputMode="decimal"
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
          placeholder="No budget"
        />
      </label>
      <label className="checkbox">
        <input type="checkbox" checked={hardCap} onChange={(e) => setHardCap(e.target.checked)} />
        Hard cap: pause kernels when it is reached
      </label>
      <button className="btn" type="submit" disabled={save.isPending}>
        Save budget
      </button>
      {save.isSuccess ? <span className="muted small">Saved</span> : null}
      <ErrorAlert error={save.error} />
    </form>
  );
}
