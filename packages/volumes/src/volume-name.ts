import { DomainError } from '@kiln/core';

/** Volume names: what `/vol/<name>` and a URL segment can carry without escaping. */
export const VOLUME_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Throws VALIDATION_FAILED with a message a person can act on unless `name` is a valid volume name. */
export function validateVolumeName(name: string): string {
  if (!VOLUME_NAME.test(name))
    throw new DomainError(
      'VALIDATION_FAILED',
      'A volume name is 1-63 lowercase letters, digits and dashes, starting with a letter or digit',
    );
  return name;
}

/** Where a volume appears inside a sandbox. */
export function volumeMountPath(name: string): string {
  return `/vol/${name}`;
}
