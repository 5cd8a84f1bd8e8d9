/**
 * The one error shape of the management API: `{"error": {"code", "message", "details"}}` with a stable code.
 * Modules throw AppError (or one of the named subclasses); the global filter renders it.
 */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 500 | 502 | 503;

export class AppError extends Error {
  constructor(
    readonly status: ErrorStatus,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    /** Extra response headers (Retry-After on 429). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }

  toJSON(): { error: { code: string; message: string; details: Record<string, unknown> } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

export const badRequest = (message: string, details?: Record<string, unknown>) => new AppError(400, 'bad_request', message, details);
export const validationFailed = (message: string, details?: Record<string, unknown>) => new AppError(422, 'validation_failed', message, details);
export const unauthorized = (message = 'A valid API key is required.') => new AppError(401, 'unauthorized', message);
export const forbidden = (message = 'This key may not do that.') => new AppError(403, 'forbidden', message);
export const notFound = (what: string, details?: Record<string, unknown>) => new AppError(404, 'not_found', `${what} not found.`, details);
export const conflict = (message: string, details?: Record<string, unknown>) => new AppError(409, 'conflict', message, details);

/** The specification's exception types, as codes. */
export class UsageLimitExceededException extends AppError {
  constructor(message: string, details: Record<string, unknown>, retryAfterSeconds: number) {
    super(429, 'usage_limit_exceeded', message, details, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
  }
}
export class PricingException extends AppError {
  constructor(message: string, details?: Record<string, unknown>, status: ErrorStatus = 422) {
    super(status, 'pricing_error', message, details);
  }
}
export class TrackingException extends AppError {
  constructor(message: string, details?: Record<string, unknown>, status: ErrorStatus = 422) {
    super(status, 'tracking_error', message, details);
  }
}
export class SubscriptionException extends AppError {
  constructor(message: string, details?: Record<string, unknown>, status: ErrorStatus = 422) {
    super(status, 'subscription_error', message, details);
  }
}
