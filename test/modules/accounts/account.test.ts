import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, IllegalStateError, NotFoundError, ValidationError } from '../../../src/eventstore/errors.js';
import { accountDecider, type AccountEvent } from '../../../src/modules/accounts/account.js';
import { deciderSpec } from '../../helpers/decider.js';

const { given } = deciderSpec(accountDecider);

const opened = (initialBalance = '100', currency = 'EUR', owner = 'alice'): AccountEvent => ({
  type: 'AccountOpened',
  data: { owner, currency, initialBalance },
});
const credited = (amount: string): AccountEvent => ({ type: 'AccountCredited', data: { amount } });
const debited = (amount: string): AccountEvent => ({ type: 'AccountDebited', data: { amount } });
const debitDeclined = (amount: string, balance: string): AccountEvent => ({
  type: 'AccountDebitDeclined',
  data: { amount, balance },
});
const closed: AccountEvent = { type: 'AccountClosed', data: {} };
const debitedFor = (transferId: string, amount: string): AccountEvent => ({
  type: 'AccountDebitedForTransfer',
  data: { transferId, amount },
});
const creditedFor = (transferId: string, amount: string): AccountEvent => ({
  type: 'AccountCreditedForTransfer',
  data: { transferId, amount },
});
const transferDeclined = (
  transferId: string,
  amount: string,
  balance: string,
  reason: 'INSUFFICIENT_FUNDS' | 'ACCOUNT_CLOSED',
): AccountEvent => ({ type: 'AccountTransferDebitDeclined', data: { transferId, amount, balance, reason } });

const open = (initialBalance: string, currency = 'EUR', owner = 'alice') =>
  ({ type: 'OpenAccount', owner, currency, initialBalance }) as const;
const credit = (amount: string) => ({ type: 'CreditAccount', amount }) as const;
const debit = (amount: string) => ({ type: 'DebitAccount', amount }) as const;
const close = { type: 'CloseAccount' } as const;
const debitFor = (transferId: string, amount: string) => ({ type: 'DebitForTransfer', transferId, amount }) as const;
const creditFor = (transferId: string, amount: string) => ({ type: 'CreditForTransfer', transferId, amount }) as const;

const stateAfter = (events: readonly AccountEvent[]) => events.reduce(accountDecider.evolve, accountDecider.initialState);
const balanceAfter = (events: readonly AccountEvent[]) => {
  const state = stateAfter(events);
  return state.status === 'NONE' ? undefined : state.balance;
};

describe('account decider: open', () => {
  it('opens with an initial balance, normalised', () => given([]).when(open('100.50')).then([opened('100.5')]));

  it('opens with a zero balance', () => given([]).when(open('0')).then([opened('0')]));

  it('refuses to open twice', () => given([opened()]).when(open('1')).thenThrows(AlreadyExistsError, 'ALREADY_EXISTS'));

  it.each([
    ['a negative initial balance', open('-0.01')],
    ['a lower-case currency', open('1', 'eur')],
    ['a two-letter currency', open('1', 'EU')],
    ['an empty owner', open('1', 'EUR', '')],
    ['a blank owner', open('1', 'EUR', '   ')],
    ['an owner of 201 characters', open('1', 'EUR', 'x'.repeat(201))],
  ])('refuses %s with VALIDATION_FAILED', (_, command) =>
    given([]).when(command).thenThrows(ValidationError, 'VALIDATION_FAILED'));

  it('accepts an owner of exactly 200 characters', () =>
    given([]).when(open('1', 'EUR', 'o'.repeat(200))).then([opened('1', 'EUR', 'o'.repeat(200))]));
});

describe('account decider: credit, debit, close', () => {
  it('credits', () => given([opened('10')]).when(credit('2.5')).then([credited('2.5')]));

  it('debits up to the whole balance', () => given([opened('10')]).when(debit('10')).then([debited('10')]));

  it('records a declined debit when the amount is above the balance', () =>
    given([opened('10'), debited('4')]).when(debit('6.01')).then([debitDeclined('6.01', '6')]));

  it('compares amounts exactly, never as floats', () =>
    given([opened('0.1'), credited('0.2')]).when(debit('0.3')).then([debited('0.3')]));

  it.each([
    ['credit zero', credit('0')],
    ['credit a negative amount', credit('-1')],
    ['debit zero', debit('0.000')],
    ['debit a negative amount', debit('-5')],
  ])('refuses to %s with VALIDATION_FAILED', (_, command) =>
    given([opened()]).when(command).thenThrows(ValidationError, 'VALIDATION_FAILED'));

  it('refuses a credit that would take the balance to 10^18', () =>
    given([opened('999999999999999999')]).when(credit('1')).thenThrows(ValidationError));

  it.each([
    ['credit', credit('1')],
    ['debit', debit('1')],
    ['close', close],
  ])('answers NOT_FOUND to %s on an account never opened', (_, command) =>
    given([]).when(command).thenThrows(NotFoundError, 'NOT_FOUND'));

  it.each([
    ['credit', credit('1')],
    ['debit', debit('1')],
    ['close (twice)', close],
  ])('answers ILLEGAL_STATE to %s on a closed account', (_, command) =>
    given([opened(), closed]).when(command).thenThrows(IllegalStateError, 'ILLEGAL_STATE'));

  it('closes an open account', () => given([opened()]).when(close).then([closed]));
});

describe('account decider: rehydration (eventsourcing-cqrs-go)', () => {
  it('gives balance 150 at version 4 after Opened(100), Credited(100), Debited(50), DebitDeclined', () => {
    const history = [opened('100'), credited('100'), debited('50'), debitDeclined('500', '150')];
    expect(history).toHaveLength(4);
    expect(stateAfter(history)).toMatchObject({ status: 'OPEN', balance: '150', currency: 'EUR', owner: 'alice' });
  });

  it('keeps exact decimals through many small credits', () => {
    const history = [opened('0'), ...Array.from({ length: 10 }, () => credited('0.1'))];
    expect(balanceAfter(history)).toBe('1');
  });
});

describe('account decider: transfer variants', () => {
  it('debits for a transfer', () => given([opened('100')]).when(debitFor('mt_a', '67')).then([debitedFor('mt_a', '67')]));

  it('declines a transfer debit above the balance', () =>
    given([opened('10')]).when(debitFor('mt_a', '67')).then([transferDeclined('mt_a', '67', '10', 'INSUFFICIENT_FUNDS')]));

  it('declines a transfer debit from a closed account', () =>
    given([opened('100'), closed])
      .when(debitFor('mt_a', '1'))
      .then([transferDeclined('mt_a', '1', '100', 'ACCOUNT_CLOSED')]));

  it('debits once per transfer id: a repeat appends nothing', () =>
    given([opened('100'), debitedFor('mt_a', '67')]).when(debitFor('mt_a', '67')).then([]));

  it('decides a declined transfer once: a repeat appends nothing, even with funds now', () =>
    given([opened('10'), transferDeclined('mt_a', '67', '10', 'INSUFFICIENT_FUNDS'), credited('100')])
      .when(debitFor('mt_a', '67'))
      .then([]));

  it('debits a different transfer id of the same amount', () =>
    given([opened('100'), debitedFor('mt_a', '10')]).when(debitFor('mt_b', '10')).then([debitedFor('mt_b', '10')]));

  it('credits once per transfer id: a repeat appends nothing', () => {
    given([opened('10')]).when(creditFor('mt_a', '67')).then([creditedFor('mt_a', '67')]);
    given([opened('10'), creditedFor('mt_a', '67')]).when(creditFor('mt_a', '67')).then([]);
  });

  it('credits a closed account for a transfer in flight (money is never lost)', () =>
    given([opened('10'), closed]).when(creditFor('mt_a', '5')).then([creditedFor('mt_a', '5')]));

  it('answers NOT_FOUND for transfer commands on an account never opened', () => {
    given([]).when(debitFor('mt_a', '1')).thenThrows(NotFoundError);
    given([]).when(creditFor('mt_a', '1')).thenThrows(NotFoundError);
  });

  it('moves the balance for transfer events and remembers the transfer ids', () => {
    const state = stateAfter([
      opened('100'),
      debitedFor('mt_a', '67'),
      creditedFor('mt_b', '0.5'),
      transferDeclined('mt_c', '1000', '33.5', 'INSUFFICIENT_FUNDS'),
    ]);
    expect(state).toMatchObject({ balance: '33.5' });
    expect(state.status === 'OPEN' && [...state.transfersDebited].sort()).toEqual(['mt_a', 'mt_c']);
    expect(state.status === 'OPEN' && [...state.transfersCredited]).toEqual(['mt_b']);
  });
});
