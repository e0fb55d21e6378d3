/** The httpOnly session cookie. */
export const SESSION_COOKIE = 'kiln_session';
/** Readable by scripts on purpose: signed-out mutations echo it in the `x-kiln-csrf` header. */
export const CSRF_COOKIE = 'kiln_csrf';
export const CSRF_HEADER = 'x-kiln-csrf';
/** The OAuth `state`, kept between the redirect to GitHub and the callback. */
export const OAUTH_STATE_COOKIE = 'kiln_oauth_state';
