
      export type PossibleTypesResultData = {
  "possibleTypes": {
    "CloseAccountResult": [
      "CloseAccountSuccess",
      "ConcurrencyConflictError",
      "IllegalStateError",
      "NotFoundError",
      "ValidationError"
    ],
    "CompleteTransactionResult": [
      "CompleteTransactionSuccess",
      "ConcurrencyConflictError",
      "IllegalStateError",
      "NotFoundError",
      "ValidationError"
    ],
    "CreateOrderResult": [
      "AlreadyExistsError",
      "ConcurrencyConflictError",
      "CreateOrderSuccess",
      "ValidationError"
    ],
    "CreateTransactionResult": [
      "AlreadyExistsError",
      "ConcurrencyConflictError",
      "CreateTransactionSuccess",
      "ValidationError"
    ],
    "CreditAccountResult": [
      "ConcurrencyConflictError",
      "CreditAccountSuccess",
      "IllegalStateError",
      "NotFoundError",
      "ValidationError"
    ],
    "DebitAccountResult": [
      "ConcurrencyConflictError",
      "DebitAccountSuccess",
      "IllegalStateError",
      "InsufficientFundsError",
      "NotFoundError",
      "ValidationError"
    ],
    "Error": [
      "AlreadyExistsError",
      "ConcurrencyConflictError",
      "IllegalStateError",
      "InsufficientFundsError",
      "NotFoundError",
      "ValidationError"
    ],
    "Event": [
      "AccountClosed",
      "AccountCredited",
      "AccountCreditedForTransfer",
      "AccountDebitDeclined",
      "AccountDebited",
      "AccountDebitedForTransfer",
      "AccountOpened",
      "AccountTransferCreditDeclined",
      "AccountTransferDebitDeclined",
      "AccountTransferRefunded",
      "MoneyTransferCompleted",
      "MoneyTransferCreated",
      "MoneyTransferDebited",
      "MoneyTransferFailed",
      "OrderCreated",
      "OrderProcessed",
      "OrderProcessingRequested",
      "OrganizationRegistered",
      "OrganizationUpdated",
      "TransactionCompleted",
      "TransactionCreated",
      "UntypedEvent"
    ],
    "Node": [
      "Account",
      "MoneyTransfer",
      "Order",
      "Organization",
      "Transaction"
    ],
    "OpenAccountResult": [
      "AlreadyExistsError",
      "ConcurrencyConflictError",
      "OpenAccountSuccess",
      "ValidationError"
    ],
    "ProcessOrderResult": [
      "ConcurrencyConflictError",
      "IllegalStateError",
      "NotFoundError",
      "ProcessOrderSuccess",
      "ValidationError"
    ],
    "RegisterOrganizationResult": [
      "AlreadyExistsError",
      "ConcurrencyConflictError",
      "RegisterOrganizationSuccess",
      "ValidationError"
    ],
    "TransferMoneyResult": [
      "AlreadyExistsError",
      "ConcurrencyConflictError",
      "IllegalStateError",
      "NotFoundError",
      "TransferMoneySuccess",
      "ValidationError"
    ],
    "UpdateOrganizationResult": [
      "ConcurrencyConflictError",
      "NotFoundError",
      "UpdateOrganizationSuccess",
      "ValidationError"
    ]
  }
};
      const result: PossibleTypesResultData = {
  "possibleTypes": {
    "CloseAccountResult": [
      "CloseAccountSuccess",
      "ConcurrencyConflictError",
      "IllegalStateError",
      "NotFoundError",
      "ValidationError"
    ],
    "CompleteTransactionResult": [
      "CompleteTransactionSuccess",
      "ConcurrencyConflictError",
      "IllegalStateError",
      "NotFoundError",
      "ValidationError"
    ],
    "CreateOrderResult": [
      "AlreadyExistsError",
      "ConcurrencyConflictError",
      "CreateOrderSuccess",
      "ValidationError"
    ],
    "CreateTransactionResult": [
      "AlreadyExistsError",
      "ConcurrencyConflictError",
      "CreateTransactionSuccess",
      "ValidationError"
    ],
    "CreditAccountResult": [
      "ConcurrencyConflictError",
      "CreditAccountSuccess",
      "IllegalStateError",
      "NotFoundError",
      "ValidationError"
    ],
    "DebitAccountResult": [
      "ConcurrencyConflictError",
      "DebitAccountSuccess",
      "IllegalStateError",
      "InsufficientFundsError",
      "NotFoundError",
      "ValidationError"
    ],
    "Error": [
      "AlreadyExistsError",
      "ConcurrencyConflictError",
      "IllegalStateError",
      "InsufficientFundsError",
      "NotFoundError",
      "ValidationError"
    ],
    "Event": [
      "AccountClosed",
      "AccountCredited",
      "AccountCreditedForTransfer",
      "AccountDebitDeclined",
      "AccountDebited",
      "AccountDebitedForTransfer",
      "AccountOpened",
      "AccountTransferCreditDeclined",
      "AccountTransferDebitDeclined",
      "AccountTransferRefunded",
      "MoneyTransferCompleted",
      "MoneyTransferCreated",
      "MoneyTransferDebited",
      "MoneyTransferFailed",
      "OrderCreated",
      "OrderProcessed",
      "OrderProcessingRequested",
      "OrganizationRegistered",
      "OrganizationUpdated",
      "TransactionCompleted",
      "TransactionCreated",
      "UntypedEvent"
    ],
    "Node": [
      "Account",
      "MoneyTransfer",
      "Order",
      "Organization",
      "Transaction"
    ],
    "OpenAccountResult": [
      "AlreadyExistsError",
      "ConcurrencyConflictError",
      "OpenAccountSuccess",
      "ValidationError"
    ],
    "ProcessOrderResult": [
      "ConcurrencyConflictError",
      "IllegalStateError",
      "NotFoundError",
      "ProcessOrderSuccess",
      "ValidationError"
    ],
    "RegisterOrganizationResult": [
      "AlreadyExistsError",
      "ConcurrencyConflictError",
      "RegisterOrganizationSuccess",
      "ValidationError"
    ],
    "TransferMoneyResult": [
      "AlreadyExistsError",
      "ConcurrencyConflictError",
      "IllegalStateError",
      "NotFoundError",
      "TransferMoneySuccess",
      "ValidationError"
    ],
    "UpdateOrganizationResult": [
      "ConcurrencyConflictError",
      "NotFoundError",
      "UpdateOrganizationSuccess",
      "ValidationError"
    ]
  }
};
      export default result;
    