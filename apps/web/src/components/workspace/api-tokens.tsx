'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { formatDate, formatDateTime } from '../../lib/format.ts';
import type { RouterOutputs } from '../../lib/router-types.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { ConfirmDialog } from '../confirm-dialog.tsx';
import { TextField } from '../field.tsx';
import { ErrorAlert, Loading } from '../status.tsx';
import { NewTokenValue, RevokeTokenButton, TokenTable } from '../token-table.tsx';
import { useWorkspace } from './workspace-context.tsx';

type Token = RouterOutputs['apiToken']['list'][number];

const EXPIRY_CHOICES = [
  { value: '30', label: '30 days' },
  { value: '90', label: '90 days' },
  { value: '365', label: '1 year' },
  { value: '', label: 'Never' },
];

/** The caller's own API tokens for this workspace; a new token's secret is shown exactly once. */
export function ApiTokens() {
  const { workspace } = useWorkspace();
  const workspaceId = workspace.id;
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const expiryId = useId();
  const tokens = useQuery(trpc.apiToken.list.queryOptions({ workspaceId }));
  const [name, setName] = useState('');
  const [expiry, setExpiry] = useState('90');
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [revoking, setRevoking] = useState<Token | null>(null);

  const refresh = () =>
    queryClient.invalidateQueries({ queryKey: trpc.apiToken.list.queryKey({ workspaceId }) });
  const create = useMutation(
    trpc.apiToken.create.mutationOptions({
      onSuccess: async (result, input) => {
        setCreated({ name: input.name, token: result.token });
        setName('');
        await refresh();
      },
    }),
  );
  const revoke = useMutation(
    trpc.apiToken.revoke.mutationOptions({
      onSuccess: async () => {
        await refresh();
        setRevoking(null);
      },
    }),
  );

  return (
    <section className="card" aria-labelledby="tokens-heading">
      <h2 id="tokens-heading">API tokens</h2>
      <p className="muted">
        Tokens act as you in this workspace. Send one as <code>Authorization: Bearer &lt;token&gt;</code>.
      </p>
      <form
        className="form-row"
        onSubmit={(event) => {
          event.preventDefault();
          setCreated(null);
          create.mutate({
            workspaceId,
            name: name.trim(),
            expiresInDays: expiry ? Number(expiry) : null,
          });
        }}
      >
        <TextField
          label="Token name"
          name="tokenName"
          required
          maxLength={80}
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <div className="field field-narrow">
          <label htmlFor={expiryId}>Expires</label>
          <select id={expiryId} className="select" value={expiry} onChange={(e) => setExpiry(e.target.value)}>
            {EXPIRY_CHOICES.map((choice) => (
              <option key={choice.label} value={choice.value}>
                {choice.label}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="btn btn-primary" disabled={create.isPending || !name.trim()}>
          {create.isPending ? 'Creating…' : 'Create token'}
        </button>
      </form>
      <ErrorAlert error={create.error} />
      {created ? (
        <NewTokenValue label="New API token" value={created.token}>
          <p>Copy your new token “{created.name}” now. You will not be able to see it again.</p>
        </NewTokenValue>
      ) : null}

      {tokens.isPending ? <Loading /> : null}
      <ErrorAlert error={tokens.error} />
      {tokens.data ? (
        <TokenTable
          label="API tokens"
          tokens={tokens.data}
          empty={<p className="muted">You have no API tokens for this workspace.</p>}
          columns={[
            { header: 'Created', className: 'muted', cell: (token) => formatDate(token.createdAt) },
            {
              header: 'Last used',
              className: 'muted',
              cell: (token) => (token.lastUsedAt ? formatDateTime(token.lastUsedAt) : 'Never'),
            },
            {
              header: 'Expires',
              className: 'muted',
              cell: (token) => (token.expiresAt ? formatDate(token.expiresAt) : 'Never'),
            },
            {
              header: <span className="visually-hidden">Actions</span>,
              headerClassName: 'actions',
              className: 'actions',
              cell: (token) => (
                <RevokeTokenButton
                  name={token.name}
                  onClick={() => {
                    revoke.reset();
                    setRevoking(token);
                  }}
                />
              ),
            },
          ]}
        />
      ) : null}
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke token?"
        confirmLabel="Revoke token"
        pending={revoke.isPending}
        error={revoke.error}
        onConfirm={() => revoking && revoke.mutate({ workspaceId, tokenId: revoking.id })}
        onClose={() => setRevoking(null)}
      >
        <p>
          Anything using <strong>{revoking?.name}</strong> will stop working immediately.
        </p>
      </ConfirmDialog>
    </section>
  );
}
