// Dynamic client registration (RFC 7591) of latchkey as a public native client (RFC 8252 section 8.4):
// no secret, a loopback redirect URI whose port the server must let vary (RFC 8252 section 7.3).
import { ExitCode, LatchkeyError, registerSecret, sanitizeLine } from '@latchkey/errors';
import {
  answerFailure,
  serverMessage,
  standardRetry,
  unexpectedResponse,
  type HttpClient,
} from '@latchkey/http';
import * as oauth from 'oauth4webapi';
import { libraryFetch } from './library-fetch.js';
import { callbackPath } from './loopback.js';
import { oauthError } from './token-response.js';

/** The redirect URI registered: the loopback callback without a port (any port is used at sign-in). */
export const registeredRedirectUri = `http://127.0.0.1${callbackPath}`;

/** The grant types worth asking for at a server that lists `supported` (all of them when it lists none). */
export function registrationGrantTypes(supported: string[] | undefined): string[] {
  const wanted = ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'];
  if (supported === undefined) return ['authorization_code', 'refresh_token'];
  const granted = wanted.filter((grant) => supported.includes(grant));
  return granted.includes('authorization_code') ? granted : ['authorization_code', ...granted];
}

export interface ClientRegistration {
  issuer: string;
  registrationUrl: URL;
  /** Shown to the person on the approval page (`client_name`). */
  clientName: string;
  /** The server's `grant_types_supported`, to ask only for what it offers. */
  grantTypesSupported?: string[];
  scope?: string;
}

/**
 * Registers a public native client (`token_endpoint_auth_method: none`, `application_type: native`, the
 * loopback redirect URI) and returns its `client_id`. A `client_secret` in the answer is never kept. The
 * request is retried only on transient failures the server did not answer (the standard policy).
 */
export async function registerPublicClient(
  http: HttpClient,
  registration: ClientRegistration,
  now: () => number,
): Promise<{ clientId: string }> {
  const through = libraryFetch(http, standardRetry, registration.registrationUrl);
  const as: oauth.AuthorizationServer = {
    issuer: registration.issuer,
    registration_endpoint: registration.registrationUrl.href,
  };
  const metadata: Record<string, oauth.JsonValue> = {
    client_name: registration.clientName,
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    redirect_uris: [registeredRedirectUri],
    grant_types: registrationGrantTypes(registration.grantTypesSupported),
    response_types: ['code'],
  };
  if (registration.scope !== undefined) metadata.scope = registration.scope;
  const response = await oauth.dynamicClientRegistrationRequest(as, metadata, through.options);
  const answer = through.responseOf(response);
  const host = registration.registrationUrl.host;
  if (answer !== undefined && answer.status !== 201 && answer.status !== 200) {
    const error = oauthError(answer);
    if (error === undefined) throw answerFailure(answer, now()) ?? unexpectedResponse(answer);
    throw new LatchkeyError({
      code: 'REGISTRATION_REFUSED',
      message: `${host} refused to register latchkey as a client: ${sanitizeLine(serverMessage(answer) ?? error).slice(0, 300)}.`,
      action:
        'Register a public client for latchkey at the server yourself and pass its id with --client-id.',
      exitCode: ExitCode.Failure,
      status: answer.status,
    });
  }
  let client: Record<string, unknown>;
  try {
    // oauth4webapi wants 201 Created; some servers answer 200 with the same body.
    client =
      answer?.status === 200
        ? (answer.body as Record<string, unknown>)
        : await oauth.processDynamicClientRegistrationResponse(response);
  } catch {
    throw unexpectedResponse({ ...answer!, isJson: true });
  }
  const clientId = client?.client_id;
  if (typeof clientId !== 'string' || clientId === '' || clientId.length > 512) {
    throw unexpectedResponse({ ...answer!, isJson: true });
  }
  if (typeof client.client_secret === 'string') registerSecret(client.client_secret);
  return { clientId };
}
