export type { CloseCodeName } from './close-codes.ts';
export { CloseCode, STORED_MESSAGE_TYPE } from './close-codes.ts';
export type { ErrorCode } from './errors.ts';
export { DomainError, ERROR_STATUS, isDomainError } from './errors.ts';
export { isUuid } from './ids.ts';
export { SLUG_PATTERN } from './slug.ts';
