// The other half of the cycle in a.ts.
import type { a } from './a.js';

export const b = (): number => 1;
export type A = typeof a;
