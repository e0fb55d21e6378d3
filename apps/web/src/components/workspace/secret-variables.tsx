'use client';

export interface VariableRow {
  key: string;
  value: string;
}

/** Rows of variable name and value; values are typed here and never come back from the server. */
export function SecretVariables(props: { rows: VariableRow[]; onChange(rows: VariableRow[]): void }) {
  const { rows, onChange } = props;
  const set = (index: number, change: Partial<VariableRow>) =>
    onChange(rows.map((row, i) => (i === index ? { ...row, ...change } : row)));
  return (
    <div className="stack">
      {rows.map((row, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity beyond their position
        <div className="form-row" key={index}>
          <label className="field field-narrow">
            <span>Variable name {index + 1}</span>
            <input
              className="input"
              value={row.key}
              maxLength={128}
              placeholder="API_KEY"
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => set(index, { key: e.target.value })}
            />
          </label>
          <label className="field">
            <span>Value {index + 1}</span>
            <textarea
              className="input"
              rows={1}
              value={row.value}
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => set(index, { value: e.target.value })}
            />
          </label>
          {rows.length > 1 ? (
            <button
              type="button"
              className="btn btn-small"
              aria-label={`Remove variable ${index + 1}`}
              onClick={() => onChange(rows.filter((_, i) => i !== index))}
            >
              Remove
            </button>
          ) : null}
        </div>
      ))}
      <div>
        <button
          type="button"
          className="btn btn-small"
          onClick={() => onChange([...rows, { key: '', value: '' }])}
        >
          Add variable
        </button>
      </div>
    </div>
  );
}

/** The filled-in rows as the `values` record the API takes. */
export function valuesOf(rows: VariableRow[]): Record<string, string> {
  return Object.fromEntries(rows.filter((row) => row.key.trim()).map((row) => [row.key.trim(), row.value]));
}
