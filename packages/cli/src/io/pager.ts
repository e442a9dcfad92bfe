import { spawn } from 'node:child_process';

export interface PageOutput {
  write(text: string): void;
  isTTY?: boolean;
  rows?: number;
}

/**
 * Shows `text` on `stdout`: through a pager only when stdout is a terminal and the text is taller than it
 * (`$PAGER`, else `less -FRX`); anything else (a pipe, a file, no pager, a pager that cannot start) gets
 * the text as it is. Resolves once the pager has exited.
 */
export async function page(text: string, stdout: PageOutput, env: NodeJS.ProcessEnv): Promise<void> {
  const lines = text.split('\n').length;
  const pager = env.PAGER ?? 'less -FRX';
  if (!stdout.isTTY || lines < (stdout.rows ?? 24) || pager.trim() === '' || pager.trim() === 'cat') {
    stdout.write(text);
    return;
  }
  const shown = await new Promise<boolean>((resolve) => {
    // The user's own pager command, as git and man run it: through the shell.
    const child = spawn('sh', ['-c', pager], { stdio: ['pipe', 'inherit', 'inherit'], env });
    child.once('error', () => resolve(false));
    child.once('close', (code) => resolve(code !== 127));
    child.stdin.on('error', () => {}); // the user quit before the end
    child.stdin.end(text);
  });
  if (!shown) stdout.write(text);
}
