import { formatMicros, formatSeconds } from '../../lib/money.ts';

interface Row {
  key: string | null;
  seconds: number;
  gpu: number;
  cpu: number;
  memory: number;
  total: number;
}

/** Cost per notebook or member this period, most expensive first. */
export function UsageTable(props: { title: string; rows: Row[]; name: (key: string | null) => string }) {
  return (
    <section aria-label={props.title}>
      <h2>{props.title}</h2>
      {props.rows.length === 0 ? (
        <div className="empty">No usage this period.</div>
      ) : (
        <table className="table" aria-label={props.title}>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Running time</th>
              <th scope="col">GPU</th>
              <th scope="col">CPU</th>
              <th scope="col">Memory</th>
              <th scope="col">Total</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((row) => (
              <tr key={row.key ?? 'none'}>
                <td>{props.name(row.key)}</td>
                <td className="muted">{formatSeconds(row.seconds)}</td>
                <td>{formatMicros(row.gpu, { precise: true })}</td>
                <td>{formatMicros(row.cpu, { precise: true })}</td>
                <td>{formatMicros(row.memory, { precise: true })}</td>
                <td>{formatMicros(row.total, { precise: true })}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
