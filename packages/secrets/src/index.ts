export {
  createKeyring,
  generateSecretsKey,
  type Keyring,
  parseSecretsKey,
  type SecretKey,
} from './keyring.ts';
export { createMasker, MASK, maskJsonText } from './masking.ts';
export {
  createSecretsVault,
  type SecretActor,
  type SecretSummary,
  type SecretsVault,
  type SecretsVaultOptions,
} from './secrets-vault.ts';
export {
  MAX_KEYS_PER_SECRET,
  MAX_SECRETS_PER_NOTEBOOK,
  MAX_VALUE_BYTES,
  validateSecretName,
  validateValues,
} from './validation.ts';
