/** GraphiQL's opening document: the whole flow of a command, its events and a live subscription. */
export const defaultQuery = /* GraphQL */ `# Welcome to cairn.
# 1. Run WatchEvents in a second tab (+):
#    it stays open and shows each committed
#    event, in commit order.
# 2. Run CreateTransaction; paste its id
#    into CompleteTransaction and run that.
# 3. Run Transactions to read projections.

subscription WatchEvents {
  events {
    __typename position aggregateId version
    ... on TransactionCreated { currency amount }
    ... on TransactionCompleted { doneBy }
  }
}

mutation CreateTransaction {
  createTransaction(input: { currency: "EUR", amount: "12.50" }) {
    __typename
    ... on CreateTransactionSuccess {
      transaction { id status amount version }
    }
    ... on Error { code message }
  }
}

mutation CompleteTransaction {
  completeTransaction(input: {
    id: "tx_paste_the_id_here", doneBy: "alice"
  }) {
    __typename
    ... on CompleteTransactionSuccess {
      transaction { id status doneBy version }
    }
    ... on Error { code message }
  }
}

query Transactions {
  transactions(first: 10) {
    edges {
      node {
        id status amount currency doneBy version
        events { type version position }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
`;
