import { AirlockError } from '../../src/errors.ts';

/** The AirlockError `p` rejects with; anything else (a resolve, another error) fails the caller. */
export async function rejection(p: Promise<unknown>): Promise<AirlockError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AirlockError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}
