// One GraphQL request over HTTP, nothing more: the caller decides what a refusal means.
import { documentFor } from './operations.js';
import { getLanguage } from '../i18n.js';

/** The network could not be reached (offline, or the server is down). */
export class NetworkError extends Error {
  constructor() { super('network unreachable'); this.name = 'NetworkError'; }
}

/** The server answered with GraphQL errors and no data, or a status that is not JSON. */
export class ServerError extends Error {
  constructor(message, { status, code } = {}) {
    super(message);
    this.name = 'ServerError';
    this.status = status;
    this.code = code;
  }
}

/**
 * POSTs one operation. Resolves with { status, body, cachedAt } where cachedAt is set when the
 * service worker answered from its copy of the last account view (offline).
 */
export async function send(operationName, variables = {}, { token = null, signal } = {}) {
  const headers = {
    'Content-Type': 'application/json',
    Accept: 'application/json',
    // The server's messages (refusals, standing) follow the interface's language.
    'Accept-Language': getLanguage(),
  };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers,
      body: JSON.stringify({ query: documentFor(operationName), variables, operationName }),
      signal,
      credentials: 'omit',
    });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new NetworkError();
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    if (response.status >= 500) throw new ServerError(`HTTP ${response.status}`, { status: response.status });
  }
  return { status: response.status, body, cachedAt: response.headers.get('X-Tessera-Cached-At') };
}

/** Whether a response says the access token is missing, expired or bad. */
export function isUnauthenticated({ status, body }) {
  if (status === 401) return true;
  return Boolean(body?.errors?.some((error) => error.extensions?.code === 'UNAUTHENTICATED'));
}
