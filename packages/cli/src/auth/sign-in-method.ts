/** How a credential was obtained, in words (the login summary and `auth status`). */
export function methodWords(method: string | undefined): string | undefined {
  switch (method) {
    case 'browser':
      return 'the browser (authorization code + PKCE)';
    case 'device':
      return 'a device code';
    case 'token':
      return 'a token given on the command line or standard input';
    case 'prompt':
      return 'a token pasted at the prompt';
    default:
      return undefined;
  }
}
