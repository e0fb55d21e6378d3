'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { ErrorAlert, Loading } from '../../../../components/status.tsx';
import { BudgetForm } from '../../../../components/usage/budget-form.tsx';
import { DailyChart } from '../../../../components/usage/daily-chart.tsx';
import { UsageTable } from '../../../../components/usage/usage-table.tsx';
import { useWorkspace } from '../../../../components/workspace/workspace-context.tsx';
import { formatDateTime } from '../../../../lib/format.ts';
import { formatCents, formatMicros } from '../../../../lib/money.ts';
import { hasRole } from '../../../../lib/roles.ts';
import { useTRPC } from '../../../../lib/trpc.ts';

const PLAN_NAMES = { STARTER: 'Starter', TEAM: 'Team', ENTERPRISE: 'Enterprise' } as const;
const limit = (value: number | null) => (value === null ? 'Unlimited' : value.toLocaleString('en-US'));

/** The workspace's usage and billing this period; every figure comes from the same ledger sums as the invoice. */
export default function UsagePage() {
  const { workspace } = useWorkspace();
  const trpc = useTRPC();
  const manage = hasRole(workspace.role, 'ADMIN');
  const input = { workspaceId: workspace.id };
  const report = useQuery({ ...trpc.billing.usage.queryOptions(input), refetchInterval: 10_000 });
  const notebooks = useQuery(trpc.notebook.list.queryOptions(input));
  const members = useQuery(trpc.member.list.queryOptions(input));
  const exportCsv = useQuery({ ...trpc.billing.exportCsv.queryOptions(input), enabled: false });
  const checkout = useMutation(
    trpc.billing.checkout.mutationOptions({ onSuccess: ({ url }) => window.location.assign(url) }),
  );
  const portal = useMutation(
    trpc.billing.portal.mutationOptions({ onSuccess: ({ url }) => window.location.assign(url) }),
  );
  const data = report.data;
  const notebookName = (id: string | null) =>
    notebooks.data?.find((n: { id: string }) => n.id === id)?.name ??
    (id ? `Notebook ${id.slice(0, 8)}` : '—');
  const memberName = (id: string | null) =>
    members.data?.find((m) => m.userId === id)?.name ?? (id ? 'Former member' : 'Unknown');

  async function download() {
    const result = await exportCsv.refetch();
    if (!result.data) return;
    const blob = new Blob([result.data.csv], { type: 'text/csv' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = result.data.filename;
    link.click();
    URL.revokeObjectURL(link.href);
  }

  return (
    <>
      <div className="page-title">
        <h1>Usage</h1>
        {data ? (
          <span className="muted">
            {data.scope === 'member' ? 'Your usage' : 'Workspace'} · {data.period.key}
          </span>
        ) : null}
        <button className="btn" type="button" onClick={() => void download()} disabled={exportCsv.isFetching}>
          Export CSV
        </button>
      </div>
      {report.isPending ? <Loading /> : null}
      <ErrorAlert error={report.error ?? checkout.error ?? portal.error ?? exportCsv.error} />
      {data ? (
        <div className="usage-page">
          {!data.check.allowed ? (
            <div className="alert alert-error" role="alert" data-testid="spend-stop">
              {data.check.message}
            </div>
          ) : null}
          <section className="usage-cards" aria-label="This period">
            <div className="card">
              <div className="muted small">
                {data.scope === 'member' ? 'Your cost this period' : 'Usage this period'}
              </div>
              <div className="usage-figure" data-testid="period-cost">
                {data.scope === 'member'
                  ? formatMicros(data.usage.total)
                  : formatCents(data.invoice.usageCents)}
              </div>
            </div>
            <div className="card">
              <div className="muted small">Credits left</div>
              <div className="usage-figure" data-testid="credit-balance">
                {formatMicros(data.balanceMicros)}
              </div>
              <div className="muted small">of {formatMicros(data.creditMicros)} this month</div>
            </div>
            <div className="card">
              <div className="muted small">Projected by {data.period.end.slice(0, 10)}</div>
              <div className="usage-figure">{formatMicros(data.projectedMicros)}</div>
            </div>
            <div className="card">
              <div className="muted small">Plan</div>
              <div className="usage-figure" data-testid="plan-name">
                {PLAN_NAMES[data.plan]}
              </div>
              {manage && data.plan === 'STARTER' ? (
                <button
                  className="btn btn-primary"
                  type="button"
                  onClick={() => checkout.mutate(input)}
                  disabled={checkout.isPending}
                >
                  Upgrade to Team
                </button>
              ) : null}
              {manage && data.hasPaymentMethod ? (
                <button
                  className="btn"
                  type="button"
                  onClick={() => portal.mutate(input)}
                  disabled={portal.isPending}
                >
                  Manage billing
                </button>
              ) : null}
            </div>
          </section>

          <section aria-label="Daily cost">
            <h2>Daily cost</h2>
            <DailyChart days={data.daily} />
          </section>

          <section aria-label="Running now">
            <h2>Running now</h2>
            {data.running.length === 0 ? (
              <div className="empty">Nothing is running; hibernated kernels cost nothing.</div>
            ) : (
              <table className="table" aria-label="Running kernels">
                <thead>
                  <tr>
                    <th scope="col">Notebook</th>
                    <th scope="col">Machine</th>
                    <th scope="col">Since</th>
                    <th scope="col">Rate</th>
                    <th scope="col">Cost so far</th>
                  </tr>
                </thead>
                <tbody>
                  {data.running.map((row) => (
                    <tr key={`${row.containerId}:${row.startAt}`}>
                      <td>{notebookName(row.ownerId)}</td>
                      <td>{row.gpu ?? 'CPU'}</td>
                      <td className="muted nowrap">{formatDateTime(row.startAt)}</td>
                      <td>{formatMicros(row.ratePerHourMicros)}/h</td>
                      <td>{formatMicros(row.costMicros, { precise: true })}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>

          <UsageTable title="By notebook" rows={data.byNotebook} name={notebookName} />
          {data.scope === 'workspace' ? (
            <UsageTable title="By member" rows={data.byMember} name={memberName} />
          ) : null}

          {manage ? (
            <section aria-label="Budget and alerts">
              <h2>Budget and alerts</h2>
              <BudgetForm workspaceId={workspace.id} budget={data.budget} />
              {data.alerts.length > 0 ? (
                <ul className="usage-alerts">
                  {data.alerts.map((alert) => (
                    <li key={alert.id}>
                      <span className="muted small">{formatDateTime(alert.createdAt)}</span> {alert.message}
                    </li>
                  ))}
                </ul>
              ) : (
                <p className="muted">No alerts this period.</p>
              )}
            </section>
          ) : null}

          <section aria-label="Plan limits">
            <h2>{PLAN_NAMES[data.plan]} limits</h2>
            <table className="table" aria-label="Plan limits">
              <tbody>
                <tr>
                  <th scope="row">Concurrent containers</th>
                  <td data-testid="limit-containers">{limit(data.limits.maxContainers)}</td>
                </tr>
                <tr>
                  <th scope="row">Concurrent GPUs</th>
                  <td>{limit(data.limits.gpuConcurrency)}</td>
                </tr>
                <tr>
                  <th scope="row">Web endpoints</th>
                  <td>{limit(data.limits.webEndpoints)}</td>
                </tr>
                <tr>
                  <th scope="row">Seats</th>
                  <td>{limit(data.limits.seats)}</td>
                </tr>
                <tr>
                  <th scope="row">Monthly credits</th>
                  <td>
                    {data.limits.monthlyCreditCents === null
                      ? 'Custom'
                      : formatCents(data.limits.monthlyCreditCents)}
                  </td>
                </tr>
              </tbody>
            </table>
          </section>

          {data.scope === 'workspace' ? (
            <section aria-label="Invoice">
              <h2>Invoice so far ({data.period.key})</h2>
              <table className="table" aria-label="Invoice lines">
                <thead>
                  <tr>
                    <th scope="col">Item</th>
                    <th scope="col">Quantity</th>
                    <th scope="col">Amount</th>
                  </tr>
                </thead>
                <tbody>
                  {data.invoice.lines.map((line) => (
                    <tr key={line.key}>
                      <td>{line.description}</td>
                      <td className="muted">
                        {line.quantity.toLocaleString('en-US')} {line.unit}s
                      </td>
                      <td>{formatCents(line.amountCents)}</td>
                    </tr>
                  ))}
                  <tr>
                    <td>Credits applied</td>
                    <td />
                    <td>-{formatCents(data.invoice.creditsAppliedCents)}</td>
                  </tr>
                  <tr>
                    <th scope="row">Total due</th>
                    <td />
                    <td data-testid="invoice-total">{formatCents(data.invoice.totalCents)}</td>
                  </tr>
                </tbody>
              </table>
            </section>
          ) : null}
        </div>
      ) : null}
    </>
  );
}
