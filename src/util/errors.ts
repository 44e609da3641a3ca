/**
 * Errors the user can act on. The CLI prints their message on one line and exits with 2;
 * anything else is an internal failure (exit 1).
 */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(message: string) {
    super(message);
  }
}

/** Wrong flags or arguments (exit 2 as well). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super(message);
  }
}

export function isUserError(e: unknown): e is InputError | UsageError {
  return e instanceof InputError || e instanceof UsageError;
}
