import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '@oclif/core';

/**
 * The bash and zsh completion scripts. `latchkey autocomplete` (@oclif/plugin-autocomplete) writes its
 * set-up files and prints how to source them; its own bash and zsh functions are built once from the
 * command list and stop after the first flag or argument (bash joins every word into one command id), so
 * the postrun hook replaces them with these, which ask `latchkey __complete -- WORD...` at every <TAB>
 * (complete.ts): flags and arguments anywhere on the line, providers and accounts as they are now.
 * PowerShell keeps the plugin's script (commands and flags).
 */

/**
 * Bash: the words up to the cursor, with `--flag` `=` `value` (bash splits at `=`) put back together;
 * the answer's words then lose what bash keeps of the current word (`--flag=`).
 */
export function bashScript(bin: string): string {
  return `# ${bin} shell completion (bash): asks \`${bin} __complete\` at every <TAB>, so the providers
# and accounts offered are the ones there are now. Written by \`${bin} autocomplete\`.
_${bin}_complete()
{
  local i n word line joined=0 cur="\${COMP_WORDS[COMP_CWORD]}"
  local -a args=() lines=()
  COMPREPLY=()
  for (( i = 1; i <= COMP_CWORD; i++ )); do
    word="\${COMP_WORDS[i]}"
    n=\${#args[@]}
    if [[ $word == "=" ]] && (( n > 0 )) && [[ \${args[n-1]} == -* && \${args[n-1]} != *=* ]]; then
      args[n-1]+="="; joined=1
    elif (( joined )); then
      args[n-1]+="$word"; joined=0
    else
      args+=("$word")
    fi
  done
  (( \${#args[@]} > 0 )) || args=("")
  # The word as latchkey reads it (--flag=value), its value, and what bash keeps of it (--flag=, --flag).
  local merged="\${args[\${#args[@]}-1]}"
  local value="$merged"
  [[ $merged == -*=* ]] && value="\${merged#*=}"
  local keep="\${merged%"$cur"}" head="\${merged%"$value"}"
  head="\${head#"$keep"}"
  while IFS= read -r line; do lines+=("$line"); done < <(command ${bin} __complete -- "\${args[@]}" 2>/dev/null)
  case "\${lines[0]}" in
    :files|:dirs)
      compopt -o filenames 2>/dev/null
      while IFS= read -r line; do COMPREPLY+=("$head$line"); done \\
        < <(if [[ \${lines[0]} == :dirs ]]; then compgen -d -- "$value"; else compgen -f -- "$value"; fi)
      return ;;
    :words) ;;
    *) return ;;
  esac
  for line in "\${lines[@]:1}"; do
    line="\${line%%$'\\t'*}"
    COMPREPLY+=("\${line#"$keep"}")
  done
}
complete -F _${bin}_complete ${bin}
`;
}

/** Zsh: the words up to the cursor as zsh has them; the descriptions shown beside the words. */
export function zshScript(bin: string): string {
  return `#compdef ${bin}
# ${bin} shell completion (zsh): asks \`${bin} __complete\` at every <TAB>, so the providers and
# accounts offered are the ones there are now. Written by \`${bin} autocomplete\`.
_${bin}() {
  local line
  local -a lines described
  lines=("\${(@f)$(command ${bin} __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  case "\${lines[1]}" in
    :files) _files; return ;;
    :dirs) _files -/; return ;;
    :words) ;;
    *) return 1 ;;
  esac
  for line in "\${(@)lines[2,-1]}"; do
    [[ -n $line ]] || continue
    if [[ $line == *$'\\t'* ]]; then
      described+=("\${line%%$'\\t'*}:\${line#*$'\\t'}")
    else
      described+=("$line")
    fi
  done
  _describe -t ${bin} '${bin}' described
}
_${bin} "$@"
`;
}

/** Where @oclif/plugin-autocomplete keeps the bash and zsh functions its set-up files source. */
export function scriptPaths(config: Pick<Config, 'cacheDir' | 'bin'>): { bash: string; zsh: string } {
  const functions = join(config.cacheDir, 'autocomplete', 'functions');
  return {
    bash: join(functions, 'bash', `${config.bin}.bash`),
    zsh: join(functions, 'zsh', `_${config.bin}`),
  };
}

/** Puts latchkey's bash and zsh functions where the plugin's set-up files look for them. */
export async function writeScripts(config: Pick<Config, 'cacheDir' | 'bin'>): Promise<void> {
  const paths = scriptPaths(config);
  for (const [file, text] of [
    [paths.bash, bashScript(config.bin)],
    [paths.zsh, zshScript(config.bin)],
  ] as const) {
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(file, text);
  }
}
