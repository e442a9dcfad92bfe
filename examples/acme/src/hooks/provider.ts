import type { ProviderHook } from '@latchkey/plugin-kit';
import { acme } from '../provider.js';

/** The `latchkey:provider` hook: latchkey calls it to find this plugin's provider. */
const provider: ProviderHook = async () => acme;

export default provider;
