// The GraphQL operations the app sends, copied from the contract (shared/contract/
// operations.graphql) word for word; tests/pwa/test_contract_operations.py checks that they stay
// the same. Each export is one operation; documentFor() adds the fragments it spreads.
//
// One knowing difference: the contract's `Record` declares $near but never passes it to
// `record(...)`, which GraphQL validation refuses ("Variable '$near' is never used"); here it is
// passed, as the contract's comment on holdings ("nearest first when `near` is given") means.

export const SearchCatalog = `query SearchCatalog($query: String!, $filter: CatalogFilter, $near: GeoPointInput, $first: Int, $after: String) {
  search(query: $query, filter: $filter, near: $near, first: $first, after: $after) {
    totalCount
    facets { name values { value count } }
    edges {
      cursor
      node {
        id title authors publicationYear materialType isbns
        availability {
          total available
          nearestAvailable { library { id name } distanceMeters }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const ScanIsbn = `query ScanIsbn($code: String!, $near: GeoPointInput) {
  scan(code: $code, near: $near) {
    __typename
    ... on Record { ...RecordDetail }
    ... on NotInCatalog { isbn13 }
    ... on InvalidCode { message }
  }
}`;

export const Record = `query Record($id: ID!, $near: GeoPointInput) {
  record(id: $id, near: $near) { ...RecordDetail }
}`;

export const RecordDetail = `fragment RecordDetail on Record {
  id title authors publicationYear materialType isbns
  holdQueueLength
  holdable
  holdings {
    barcode callNumber status dueDate availableFrom
    library { id name }
    distanceMeters
  }
}`;

export const Libraries = `query Libraries($near: GeoPointInput) {
  libraries(near: $near) {
    id name address
    location { lat lon }
    distanceMeters
    openNow
    openingHours { weekday opens closes }
    phone email
  }
}`;

export const PushPublicKey = `query PushPublicKey { pushPublicKey }`;

export const Login = `mutation Login($cardNumber: String!, $pin: String!) {
  login(input: { cardNumber: $cardNumber, pin: $pin }) {
    accessToken refreshToken expiresIn
    errors { code message }
  }
}`;

export const RefreshSession = `mutation RefreshSession($refreshToken: String!) {
  refreshSession(input: { refreshToken: $refreshToken }) {
    accessToken refreshToken expiresIn
    errors { code message }
  }
}`;

export const Logout = `mutation Logout($refreshToken: String!) {
  logout(input: { refreshToken: $refreshToken }) { errors { code message } }
}`;

export const ChangePin = `mutation ChangePin($currentPin: String!, $newPin: String!) {
  changePin(input: { currentPin: $currentPin, newPin: $newPin }) { errors { code message } }
}`;

export const Me = `query Me {
  me {
    id name cardNumber
    preferredPickupLibrary { id name }
    standing { code message blockedUntil }
    loans {
      id dueDate loanedAt renewalsUsed renewalsLeft overdueDays
      renewable renewBlockedBy
      renewableFrom
      record { id title materialType }
      item { barcode }
      library { id name }
    }
    holds {
      id status position placedAt pickupDeadline
      suspendedUntil
      estimatedReadyDate
      record { id title }
      pickupLibrary { id name }
    }
    fees { total items { loanId amount description } }
    notificationPreferences { push sms email quietHoursStart quietHoursEnd language phone }
  }
}`;

export const PlaceHold = `mutation PlaceHold($recordId: ID!, $pickupLibraryId: ID, $near: GeoPointInput, $clientMutationId: String) {
  placeHold(input: { recordId: $recordId, pickupLibraryId: $pickupLibraryId, near: $near, clientMutationId: $clientMutationId }) {
    hold { id status position pickupLibrary { id name } }
    errors { code message }
  }
}`;

export const CancelHold = `mutation CancelHold($holdId: ID!) {
  cancelHold(input: { holdId: $holdId }) {
    hold { id status }
    errors { code message }
  }
}`;

export const RenewLoan = `mutation RenewLoan($loanId: ID!) {
  renewLoan(input: { loanId: $loanId }) {
    loan { id dueDate renewalsUsed renewalsLeft }
    errors { code message }
  }
}`;

export const RenewAll = `mutation RenewAll {
  renewAll {
    results { loan { id dueDate } errors { code message } }
  }
}`;

export const SubscribePush = `mutation SubscribePush($endpoint: String!, $p256dh: String!, $auth: String!) {
  subscribePush(input: { endpoint: $endpoint, keys: { p256dh: $p256dh, auth: $auth } }) {
    errors { code message }
  }
}`;

export const SetPreferredPickupLibrary = `mutation SetPreferredPickupLibrary($libraryId: ID!) {
  setPreferredPickupLibrary(input: { libraryId: $libraryId }) {
    library { id name }
    errors { code message }
  }
}`;

export const UnsubscribePush = `mutation UnsubscribePush($endpoint: String!) {
  unsubscribePush(input: { endpoint: $endpoint }) { errors { code message } }
}`;

export const UpdateNotificationPreferences = `mutation UpdateNotificationPreferences($input: NotificationPreferencesInput!) {
  updateNotificationPreferences(input: $input) {
    notificationPreferences { push sms email quietHoursStart quietHoursEnd language phone }
    errors { code message }
  }
}`;

const FRAGMENTS = { RecordDetail };
const OPERATIONS = {
  SearchCatalog, ScanIsbn, Record, Libraries, PushPublicKey, Login, RefreshSession, Logout,
  ChangePin, Me, PlaceHold, CancelHold, RenewLoan, RenewAll, SubscribePush,
  SetPreferredPickupLibrary, UnsubscribePush, UpdateNotificationPreferences,
};

/** The document to send for an operation: its text and the fragments it spreads. */
export function documentFor(operationName) {
  const operation = OPERATIONS[operationName];
  if (!operation) throw new Error(`Unknown operation ${operationName}`);
  const spreads = [...operation.matchAll(/\.\.\.(\w+)/g)].map((match) => match[1]);
  const fragments = [...new Set(spreads)].map((name) => FRAGMENTS[name]);
  return [operation, ...fragments].join('\n');
}
