'use client';
import type { ReactNode } from 'react';
import { CopyField } from './copy-field.tsx';

/*
 * Lists of bearer tokens (a member's API tokens, an endpoint's tokens): a token's value is shown once,
 * right after it is made; afterwards only its name and first characters.
 */

/** What every token list shows of a token. */
interface TokenView {
  id: string;
  name: string;
  prefix: string;
}

/** A column after Name and Token: its header and what it shows of each token. */
export interface TokenColumn<T> {
  header: ReactNode;
  headerClassName?: string;
  className?: string;
  cell(token: T): ReactNode;
}

/** The tokens' table (name, prefix, then `columns`), or `empty` when there are none. */
export function TokenTable<T extends TokenView>(props: {
  label: string;
  tokens: T[];
  empty: ReactNode;
  columns: TokenColumn<T>[];
}) {
  if (props.tokens.length === 0) return props.empty;
  return (
    <table className="table" aria-label={props.label}>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Token</th>
          {props.columns.map((column, index) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: the columns are fixed by the caller
            <th key={index} scope="col" className={column.headerClassName}>
              {column.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.tokens.map((token) => (
          <tr key={token.id}>
            <td>{token.name}</td>
            <td>
              <code>{token.prefix}…</code>
            </td>
            {props.columns.map((column, index) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: the columns are fixed by the caller
              <td key={index} className={column.className}>
                {column.cell(token)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A token's Revoke button. */
export function RevokeTokenButton(props: { name: string; onClick(): void }) {
  return (
    <button
      type="button"
      className="btn btn-small btn-danger"
      aria-label={`Revoke token ${props.name}`}
      onClick={props.onClick}
    >
      Revoke
    </button>
  );
}

/** A token just made: its value to copy, the only time it is shown; `children` say so in words. */
export function NewTokenValue(props: { label: string; value: string; children?: ReactNode }) {
  return (
    <div className="alert alert-success stack" role="status">
      {props.children}
      <CopyField label={props.label} value={props.value} />
    </div>
  );
}
