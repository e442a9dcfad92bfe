import { isLatchkeyError, type LatchkeyError } from '@latchkey/errors';

/** The `LatchkeyError` a promise rejects with; fails when it resolves or rejects with anything else. */
export async function latchkeyRejection(promise: Promise<unknown>): Promise<LatchkeyError> {
  try {
    await promise;
  } catch (error) {
    if (isLatchkeyError(error)) return error;
    throw error;
  }
  throw new Error('expected a LatchkeyError, got success');
}
