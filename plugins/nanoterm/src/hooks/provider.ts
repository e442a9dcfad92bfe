import type { ProviderHook } from '@latchkey/plugin-kit';
import { nanoterm } from '../provider.js';

/** The `latchkey:provider` hook: how the host finds this plugin's provider. */
const provider: ProviderHook = async () => nanoterm;

export default provider;
