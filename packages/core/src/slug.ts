/** A workspace address: lower-case letters, digits and dashes, at most 48, no dash at either end.
 * Here rather than in accounts so browser forms validate with the same rule as the server. */
export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/;
