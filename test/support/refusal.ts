import { expect } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';

/** The InvalidArgumentError `fn` throws; fails the test when it throws nothing or something else. */
export function refusal(fn: () => unknown): InvalidArgumentError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return error as InvalidArgumentError;
  }
  throw new Error('expected an InvalidArgumentError');
}
