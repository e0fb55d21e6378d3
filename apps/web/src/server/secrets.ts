import type { Db } from '@kiln/db';
import { createKeyring, createSecretsVault, parseSecretsKey, type SecretsVault } from '@kiln/secrets';

/**
 * The secrets vault under the configured key, or none without one. Rows still under an old key
 * (KILN_SECRETS_OLD_KEYS) are re-encrypted under the current one before the app serves requests.
 */
export async function createSecretsFromEnv(
  db: Db,
  config: { key: string; oldKeys: string[] } | null,
): Promise<SecretsVault | undefined> {
  if (!config) return undefined;
  const keyring = createKeyring(parseSecretsKey(config.key), config.oldKeys.map(parseSecretsKey));
  const vault = createSecretsVault({ db, keyring });
  if (config.oldKeys.length > 0) {
    const { rotated } = await vault.rotate();
    console.log(`secrets: re-encrypted ${rotated} secret(s) under key ${keyring.current.id}`);
  }
  return vault;
}
