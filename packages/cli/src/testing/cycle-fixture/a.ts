// A two-file cycle for structure.test.ts: proves the cycle check can fail.
import { b } from './b.js';

export const a = (): number => b() + 1;
