import type { ProviderHook } from '@latchkey/plugin-kit';
import { nanogpt } from '../provider.js';

/** The `latchkey:provider` hook: how the host finds this plugin's provider. */
const provider: ProviderHook = async () => nanogpt;

export default provider;
