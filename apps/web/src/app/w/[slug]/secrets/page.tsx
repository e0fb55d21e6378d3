'use client';
import { SecretsManager } from '../../../../components/workspace/secrets-manager.tsx';

export default function SecretsPage() {
  return (
    <>
      <div className="page-title">
        <h1>Secrets</h1>
      </div>
      <SecretsManager />
    </>
  );
}
