/** An error answered in Stripe's format: `{ error: { type, code, message, param } }`. */
export class StripeLocalError extends Error {
  constructor(
    readonly status: number,
    readonly type:
      | 'invalid_request_error'
      | 'idempotency_error'
      | 'api_error'
      | 'card_error'
      | 'authentication_error',
    message: string,
    readonly code?: string,
    readonly param?: string,
  ) {
    super(message);
  }

  toJSON() {
    return {
      error: {
        type: this.type,
        message: this.message,
        ...(this.code ? { code: this.code } : {}),
        ...(this.param ? { param: this.param } : {}),
      },
    };
  }
}

export const missing = (param: string) =>
  new StripeLocalError(
    400,
    'invalid_request_error',
    `Missing required param: ${param}.`,
    'parameter_missing',
    param,
  );

export const unknown = (param: string) =>
  new StripeLocalError(
    400,
    'invalid_request_error',
    `Received unknown parameter: ${param}`,
    'parameter_unknown',
    param,
  );

export const invalid = (param: string, message: string) =>
  new StripeLocalError(400, 'invalid_request_error', message, 'parameter_invalid', param);

export const notFound = (kind: string, id: string, param = 'id') =>
  new StripeLocalError(404, 'invalid_request_error', `No such ${kind}: '${id}'`, 'resource_missing', param);
