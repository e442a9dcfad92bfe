import type { ProviderHook } from '@latchkey/plugin-kit';
import { nanoctl } from '../provider.js';

/** The `latchkey:provider` hook: how the host finds this plugin's provider. */
const provider: ProviderHook = async () => nanoctl;

export default provider;
