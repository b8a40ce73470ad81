// The app's way to the server: an operation by name, its data back, the session kept fresh.
// Expected refusals are data (the payloads' `errors`), not exceptions; exceptions are for the
// network being unreachable (NetworkError), faults (ServerError) and an ended session
// (SessionEnded, after which the app shows the login screen).
import { send, isUnauthenticated, NetworkError, ServerError } from './transport.js';
import { currentAccessToken, refresh, forget, SessionEnded } from '../session.js';

export { NetworkError, ServerError, SessionEnded };

function dataOf(result) {
  const { body, status } = result;
  if (body?.data && Object.values(body.data).some((value) => value !== null)) return body.data;
  const first = body?.errors?.[0];
  if (first) throw new ServerError(first.message, { status, code: first.extensions?.code });
  if (body?.data) return body.data;
  throw new ServerError(`HTTP ${status}`, { status });
}

/**
 * Sends `operationName` with `variables`. With `auth`, adds the patron's access token, and on
 * UNAUTHENTICATED refreshes the session once and tries again.
 * Resolves with { data, cachedAt } (cachedAt: when the offline copy was made, if it is one).
 */
export async function request(operationName, variables = {}, { auth = false, signal } = {}) {
  const token = auth ? await currentAccessToken() : null;
  let result = await send(operationName, variables, { token, signal });
  if (auth && isUnauthenticated(result)) {
    const fresh = await refresh();
    result = await send(operationName, variables, { token: fresh, signal });
    if (isUnauthenticated(result)) {
      await forget();
      throw new SessionEnded();
    }
  }
  return { data: dataOf(result), cachedAt: result.cachedAt };
}
