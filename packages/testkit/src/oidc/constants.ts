/** Names shared by the OIDC test server and its users (no oidc-provider import here). */
/** The public client every server has unless `clients` says otherwise (device_code + refresh_token). */
export const OIDC_PUBLIC_CLIENT_ID = 'latchkey-cli';
/** The confidential client (HTTP Basic at the token and revocation endpoints). */
export const OIDC_CONFIDENTIAL_CLIENT_ID = 'latchkey-confidential';
/** The confidential client's secret (a test value: the server is on 127.0.0.1 and lives for one test). */
export const OIDC_CONFIDENTIAL_CLIENT_SECRET = 'latchkey-confidential-test-secret-0123456789';
/** The account `approve()` signs in when none is named. */
export const OIDC_DEFAULT_ACCOUNT = 'alice';
