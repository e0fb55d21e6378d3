/** Mirrors the server's rule so the form can say so before a round trip. */
export const MIN_PASSWORD_LENGTH = 10;
