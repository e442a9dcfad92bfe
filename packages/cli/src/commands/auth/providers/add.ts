import { Args, Flags } from '@oclif/core';
import { LatchkeyCommand, jsonFlag } from '../../../base-command.js';
import { addProvider, describeAdded } from '../../../providers/configured-providers-edit.js';
import type { ProviderDefinition } from '@latchkey/storage';

export default class AuthProvidersAdd extends LatchkeyCommand {
  static summary = 'Add any OAuth 2.0 server as a provider, by configuration.';
  static description =
    "Reads the server's metadata (RFC 8414, else OpenID Connect discovery) from --issuer, or from the document at --discovery-url, and keeps its authorization (browser sign-in), device authorization, token, revocation and userinfo endpoints; or give them with the --*-url flags, which win over discovered ones. Without --client-id, latchkey registers itself as a public client where the server offers registration (RFC 7591). Every endpoint must be https:// (http:// only for localhost). The definition is stored in providers.json in the config directory; a client secret never is, only the variable that holds it.";
  static examples = [
    {
      command:
        '<%= config.bin %> auth providers add acme-idp --issuer https://idp.example.com --client-id latchkey',
      description: 'Discover the endpoints, then sign in with `latchkey auth login --provider acme-idp`.',
    },
    {
      command: '<%= config.bin %> auth providers add acme-api --resource https://api.example.com/v1',
      description: 'Find the authorization server from the API itself (RFC 9728); the API is the base URL.',
    },
    {
      command: '<%= config.bin %> auth providers add acme-idp --issuer https://idp.example.com',
      description: 'A server with client registration: latchkey registers itself as a public client.',
    },
    {
      command:
        '<%= config.bin %> auth providers add acme-idp --discovery-url https://acme.example.com/api/oidc/.well-known/openid-configuration --client-id latchkey',
      description:
        'Metadata at an address of its own: the issuer is the one it names, which must be on the same server (or confirmed with --issuer).',
    },
    {
      command:
        '<%= config.bin %> auth providers add dev-idp --client-id my-cli --encoding json --device-authorization-url http://localhost:3000/device/code --token-url http://localhost:3000/device/token',
      description: 'A server without metadata: give the endpoints.',
    },
  ];
  static args = {
    name: Args.string({
      description: 'The provider id to use with --provider (lowercase, e.g. acme-idp).',
      required: true,
    }),
  };
  static flags = {
    json: jsonFlag,
    issuer: Flags.string({
      description: "The server's issuer URL; its metadata says where the endpoints are.",
    }),
    resource: Flags.string({
      description:
        "The API's URL: its protected resource metadata (RFC 9728, or its 401's hint) names the authorization server; it becomes the base URL.",
    }),
    'discovery-url': Flags.string({
      description:
        "The address of the server's metadata document, when it is not at the issuer's well-known address. The issuer it names must be on the same server, or equal --issuer.",
    }),
    'client-id': Flags.string({
      description:
        'The client id registered for latchkey at the server. Leave it out where the server offers registration (RFC 7591): latchkey registers a public client.',
    }),
    scope: Flags.string({
      description:
        'A scope to ask for (repeatable). Default: "openid offline_access" when the server offers offline_access, else none.',
      multiple: true,
    }),
    'client-secret-env': Flags.string({
      description:
        'For a confidential client: the environment variable that holds the client secret (never stored).',
    }),
    'device-authorization-url': Flags.string({
      description: 'The device authorization endpoint (RFC 8628).',
    }),
    'authorization-url': Flags.string({
      description: 'The authorization endpoint, for the browser sign-in (authorization code + PKCE).',
    }),
    'token-url': Flags.string({ description: 'The token endpoint.' }),
    'revocation-url': Flags.string({ description: 'The revocation endpoint (RFC 7009), used at logout.' }),
    'userinfo-url': Flags.string({ description: 'The OpenID Connect userinfo endpoint, for who signed in.' }),
    encoding: Flags.string({
      description: 'How request bodies are sent: form (the standard) or json (servers that only take JSON).',
      options: ['form', 'json'],
      default: 'form',
    }),
    'base-url': Flags.string({ description: 'The base URL accounts are bound to; default the issuer.' }),
    force: Flags.boolean({
      description:
        'Replace a definition of the same name; when its endpoints change, its stored accounts are logged out first (revoked at the old ones).',
    }),
  };

  async run(): Promise<ProviderDefinition> {
    const { args, flags } = await this.parse(AuthProvidersAdd);
    const added = await addProvider(this.runtime, {
      name: args.name,
      issuer: flags.issuer,
      resource: flags.resource,
      discoveryUrl: flags['discovery-url'],
      clientId: flags['client-id'],
      scopes: flags.scope ?? [],
      clientSecretEnv: flags['client-secret-env'],
      deviceAuthorizationUrl: flags['device-authorization-url'],
      authorizationUrl: flags['authorization-url'],
      tokenUrl: flags['token-url'],
      revocationUrl: flags['revocation-url'],
      userinfoUrl: flags['userinfo-url'],
      encoding: flags.encoding as 'form' | 'json',
      baseUrl: flags['base-url'],
      force: flags.force,
    });
    for (const line of describeAdded(added)) this.runtime.say(line);
    return added.definition;
  }
}
