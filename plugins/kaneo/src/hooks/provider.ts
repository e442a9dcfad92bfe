import type { ProviderHook } from '@latchkey/plugin-kit';
import { kaneo } from '../provider.js';

/** The `latchkey:provider` hook: how the host finds this plugin's provider. */
const provider: ProviderHook = async () => kaneo;

export default provider;
