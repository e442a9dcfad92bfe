import { nanoctl } from '../provider.js';

/** The `latchkey:provider` hook: how the host finds this plugin's provider. */
export default async function provider() {
  return nanoctl;
}
