/**
 * Surviving mutants that no test can kill, each with the reason (docs/testing.md lists them).
 * A survivor is matched by its file, mutator, replacement and the trimmed text of the line it
 * starts on, so edits elsewhere in the file do not orphan an entry; an entry whose line changed
 * stops matching, and `npm run mutation` reports the survivor again until it is re-examined.
 */
export interface Equivalent {
  readonly file: string;
  readonly mutator: string;
  readonly replacement: string;
  /** The trimmed source line where the mutant starts. */
  readonly code: string;
  readonly reason: string;
}

export const EQUIVALENT: readonly Equivalent[] = [];
