import { acme } from '../provider.js';

/** The `latchkey:provider` hook: latchkey calls it to find this plugin's provider. */
export default async function provider() {
  return acme;
}
