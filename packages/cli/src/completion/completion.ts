import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Config } from '@oclif/core';
import { loadProviders } from '../providers/providers.js';
import { readOnlyStore } from '../runtime/environment.js';

/**
 * Shell completion (`latchkey autocomplete`, @oclif/plugin-autocomplete) with provider ids and account
 * names as values. The plugin builds its scripts from the commands' flag metadata when `autocomplete` (or
 * its refresh after `plugins install|uninstall`) runs: the prerun hook puts the installed providers into
 * `--provider`'s `options` there (zsh completes them), and the postrun hook adds values to the bash
 * function, which completes only commands and flags by itself. Nothing runs for other commands.
 */
export interface CompletionWords {
  providers: string[];
  accounts: string[];
}

/** Only words a shell can take as they are: anything else (quotes, spaces, `$`) is left out. */
const plainWord = /^[\w@.+-]{1,128}$/;

const found = new WeakMap<Config, Promise<CompletionWords>>();

/** Installed provider ids (discovery, as `auth providers` lists them) and stored account names, once per run. */
export function completionWords(config: Config, env: NodeJS.ProcessEnv): Promise<CompletionWords> {
  let words = found.get(config);
  if (!words) {
    words = (async () => {
      const discovery = await loadProviders(config);
      const records = await readOnlyStore(env)
        .list()
        .catch(() => []);
      return completionWordsFrom(
        [...discovery.providers.keys()],
        records.map((r) => r.account),
      );
    })();
    found.set(config, words);
  }
  return words;
}

/** Sorted, without repeats, and only words a shell takes as they are (an account named `$(x)` is left out). */
export function completionWordsFrom(providers: string[], accounts: string[]): CompletionWords {
  const words = (list: string[]) => [...new Set(list.filter((w) => plainWord.test(w)))].sort();
  return { providers: words(providers), accounts: words(accounts) };
}

interface FlagMetadata {
  type?: string;
  options?: string[];
}

/** Gives every command's `--provider` (and `--account`) flag the words as `options`, for the zsh script. */
export function addFlagOptions(config: Config, words: CompletionWords): void {
  for (const plugin of config.getPluginsList()) {
    for (const command of plugin.commands) {
      const flags = command.flags as Record<string, FlagMetadata | undefined>;
      const provider = flags.provider;
      if (provider?.type === 'option' && !provider.options && words.providers.length > 0)
        provider.options = words.providers;
      const account = flags.account;
      if (account?.type === 'option' && !account.options && words.accounts.length > 0)
        account.options = words.accounts;
    }
  }
}

const marker = '# latchkey: provider ids and account names as values';

/**
 * The bash completion function with values: provider ids after --provider/-p and as the first argument of
 * `auth login|logout|status|token|switch`, account names after --account; everything else is the
 * generated function's. Replaces an earlier addition, so running it twice changes nothing.
 */
export function bashValueCompletion(script: string, bin: string, words: CompletionWords): string {
  const generated = script.includes(marker) ? script.slice(0, script.indexOf(marker)) : script;
  const fn = `_${bin}_values`;
  return `${generated.trimEnd()}

${marker}
${fn}()
{
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev=""
  local providers="${words.providers.join(' ')}"
  local accounts="${words.accounts.join(' ')}"
  if (( COMP_CWORD > 0 )); then prev="\${COMP_WORDS[COMP_CWORD-1]}"; fi
  case "$prev" in
    --provider|-p) COMPREPLY=($(compgen -W "$providers" -- "$cur")); return ;;
    --account) COMPREPLY=($(compgen -W "$accounts" -- "$cur")); return ;;
  esac
  if (( COMP_CWORD == 3 )) && [[ "\${COMP_WORDS[1]}" == auth && "$cur" != -* ]]; then
    case "\${COMP_WORDS[2]}" in
      login|logout|status|token|switch) COMPREPLY=($(compgen -W "$providers" -- "$cur")); return ;;
    esac
  fi
  _${bin}_autocomplete
}
complete -F ${fn} ${bin}
`;
}

/** Where @oclif/plugin-autocomplete writes the bash function. */
export function bashFunctionPath(config: Config): string {
  return join(config.cacheDir, 'autocomplete', 'functions', 'bash', `${config.bin}.bash`);
}

/** Adds the values to the bash function the plugin just wrote (left alone when it wrote none). */
export async function extendBashFunction(config: Config, words: CompletionWords): Promise<void> {
  const file = bashFunctionPath(config);
  let script: string;
  try {
    script = await readFile(file, 'utf8');
  } catch {
    return;
  }
  await writeFile(file, bashValueCompletion(script, config.bin, words));
}

/**
 * After `plugins link` (which, unlike install and uninstall, fires no hook the completion plugin listens
 * to): rebuilds the scripts with the linked plugin's providers, when completion has been set up. The
 * running config predates the link, so a fresh one is loaded. Never fails the link.
 */
export async function refreshAfterLink(config: Config): Promise<void> {
  try {
    await access(join(config.cacheDir, 'autocomplete'));
  } catch {
    return;
  }
  try {
    const fresh = await Config.load(config.root);
    await fresh.runCommand('autocomplete:create');
  } catch {
    // A stale completion list is a small thing; `latchkey autocomplete --refresh-cache` rebuilds it.
  }
}
