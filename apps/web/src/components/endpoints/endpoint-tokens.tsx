'use client';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { formatDateTime } from '../../lib/format.ts';
import type { RouterOutputs } from '../../lib/router-types.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { TextField } from '../field.tsx';
import { ErrorAlert } from '../status.tsx';
import { NewTokenValue, RevokeTokenButton, TokenTable } from '../token-table.tsx';

type Token = RouterOutputs['endpoint']['get']['tokens'][number];

/** Bearer tokens of one endpoint: made here (value shown once), revoked here. */
export function EndpointTokens(props: {
  workspaceId: string;
  endpointId: string;
  tokens: Token[];
  canEdit: boolean;
  onChange(): void;
}) {
  const trpc = useTRPC();
  const [name, setName] = useState('');
  const create = useMutation(trpc.endpoint.createToken.mutationOptions({ onSuccess: props.onChange }));
  const revoke = useMutation(trpc.endpoint.revokeToken.mutationOptions({ onSuccess: props.onChange }));
  return (
    <section className="card" aria-labelledby="tokens-heading">
      <h2 id="tokens-heading">Tokens</h2>
      {props.canEdit ? (
        <form
          className="form-row"
          onSubmit={(event) => {
            event.preventDefault();
            create.mutate({
              workspaceId: props.workspaceId,
              endpointId: props.endpointId,
              name: name.trim() || 'token',
            });
          }}
        >
          <TextField
            label="Token name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            maxLength={100}
          />
          <div>
            <button type="submit" className="btn" disabled={create.isPending}>
              Create token
            </button>
          </div>
        </form>
      ) : null}
      {create.data ? <NewTokenValue label="New token (shown only now)" value={create.data.token} /> : null}
      <ErrorAlert error={create.error ?? revoke.error} />
      <TokenTable
        label="Tokens"
        tokens={props.tokens}
        empty={<p className="muted small">No tokens.</p>}
        columns={[
          {
            header: 'Last used',
            className: 'muted nowrap',
            cell: (token) => formatDateTime(token.lastUsedAt),
          },
          {
            header: 'State',
            cell: (token) =>
              token.revokedAt ? (
                `revoked ${formatDateTime(token.revokedAt)}`
              ) : props.canEdit ? (
                <RevokeTokenButton
                  name={token.name}
                  onClick={() =>
                    revoke.mutate({
                      workspaceId: props.workspaceId,
                      endpointId: props.endpointId,
                      tokenId: token.id,
                    })
                  }
                />
              ) : (
                'active'
              ),
          },
        ]}
      />
    </section>
  );
}
