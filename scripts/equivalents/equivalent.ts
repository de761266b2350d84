/**
 * A surviving mutant that no test can kill, with the reason (docs/testing.md lists them).
 * A survivor is matched by its file, line, mutator, replacement and the trimmed text of that
 * line: when the code moves or changes, the entry stops matching and `npm run mutation` reports
 * the survivor again (NO REASON) until someone re-examines it and updates the entry.
 */
export interface Equivalent {
  readonly file: string;
  /** The line where the mutant starts. */
  readonly line: number;
  readonly mutator: string;
  readonly replacement: string;
  /** The trimmed text of that line. */
  readonly code: string;
  readonly reason: string;
  /**
   * 'static': not equivalent, but out of Stryker's reach: the mutant sits in a module-level
   * constant, evaluated once at import, and Stryker's run never activates it. The reason names
   * the test that fails with the mutant applied by hand. It stays a survivor in the score and is
   * not counted as equivalent.
   */
  readonly kind?: 'static';
}
