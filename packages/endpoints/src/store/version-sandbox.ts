/**
 * What a version's replicas run with besides their machine, fixed when it is deployed: the workspace
 * image as it was built then, the secrets whose variables they get (by id; values are decrypted when a
 * replica starts) and the named volumes they mount. Defaults to the notebook's or function file's own.
 */
export interface VersionSandbox {
  /** null: Kiln's base image. */
  image: { id: string; name: string; debian: string[]; python: string[] } | null;
  /** In the order their variables apply (later ones win). */
  secrets: { id: string; name: string }[];
  volumes: { name: string; readOnly: boolean }[];
}

export const BASE_SANDBOX: VersionSandbox = { image: null, secrets: [], volumes: [] };

/** A version row's sandbox columns as the type above (rows from before the columns read as the base). */
export function sandboxOf(row: {
  imageId: string | null;
  image: unknown;
  secrets: unknown;
  volumes: unknown;
}) {
  const image = row.image as { name: string; debian: string[]; python: string[] } | null;
  return {
    image: row.imageId && image ? { id: row.imageId, ...image } : null,
    secrets: Array.isArray(row.secrets) ? (row.secrets as VersionSandbox['secrets']) : [],
    volumes: Array.isArray(row.volumes) ? (row.volumes as VersionSandbox['volumes']) : [],
  } satisfies VersionSandbox;
}

/** The columns a version row stores `sandbox` in. */
export function sandboxColumns(sandbox: VersionSandbox) {
  const { image } = sandbox;
  return {
    imageId: image?.id ?? null,
    image: image ? { name: image.name, debian: image.debian, python: image.python } : undefined,
    secrets: sandbox.secrets.map(({ id, name }) => ({ id, name })),
    volumes: sandbox.volumes.map(({ name, readOnly }) => ({ name, readOnly })),
  };
}
