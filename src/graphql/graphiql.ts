/** GraphiQL's opening document: the whole flow of a command, its events and a live subscription. */
export const defaultQuery = /* GraphQL */ `# Welcome to cairn. Run these one by one (▶ picks the operation).
#
# 1. Open a second GraphiQL tab and run WatchEvents there: it stays open and
#    shows every committed event, in commit order.
# 2. Run CreateTransaction here, copy the id it returns into CompleteTransaction.
# 3. Read the projection and the stream with Transaction.

subscription WatchEvents {
  events {
    __typename position aggregateId version type occurredAt
    ... on TransactionCreated { currency amount }
    ... on TransactionCompleted { doneBy }
  }
}

mutation CreateTransaction {
  createTransaction(input: { currency: "EUR", amount: "12.50" }) {
    __typename
    ... on CreateTransactionSuccess { transaction { id status amount currency version } }
    ... on Error { code message }
  }
}

mutation CompleteTransaction {
  completeTransaction(input: { id: "tx_paste_the_id_here", doneBy: "alice" }) {
    __typename
    ... on CompleteTransactionSuccess { transaction { id status doneBy version } }
    ... on Error { code message }
  }
}

query Transaction {
  transactions(first: 10) {
    edges { node { id status amount currency doneBy version events { type version position } } }
    pageInfo { hasNextPage endCursor }
  }
}
`;
