'use client';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatMicros } from '../../lib/money.ts';

export interface DailyPoint {
  day: string;
  gpu: number;
  cpu: number;
  memory: number;
}

/** Cost per day this period, stacked by resource. */
export function DailyChart({ days }: { days: DailyPoint[] }) {
  const data = days.map((day) => ({ ...day, label: day.day.slice(5) }));
  return (
    <figure className="usage-chart" aria-label="Daily cost by resource">
      <ResponsiveContainer width="100%" height={240}>
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="label" fontSize={11} />
          <YAxis fontSize={11} tickFormatter={(value: number) => formatMicros(value)} width={64} />
          <Tooltip formatter={(value) => formatMicros(Number(value), { precise: true })} />
          <Legend />
          <Bar dataKey="gpu" name="GPU" stackId="cost" fill="#7c3aed" isAnimationActive={false} />
          <Bar dataKey="cpu" name="CPU" stackId="cost" fill="#2563eb" isAnimationActive={false} />
          <Bar dataKey="memory" name="Memory" stackId="cost" fill="#0d9488" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}
