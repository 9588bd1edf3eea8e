import { describe, it } from 'vitest';
import type { AccountEvent } from '../../../src/modules/accounts/account.js';
import { evolveAccountView } from '../../../src/modules/accounts/projection.js';
import { occurredAt, viewSpec } from '../../helpers/view.js';

const id = 'acc_view';
const { given } = viewSpec(evolveAccountView, id);
const opened = (initialBalance = '100'): AccountEvent => ({ type: 'AccountOpened', data: { owner: 'ada', currency: 'EUR', initialBalance } });
const transfer = 'mt_t';

describe('the accounts row (evolveAccountView)', () => {
  it('is made by AccountOpened', () =>
    given([opened('100.50')]).then({
      id,
      owner: 'ada',
      currency: 'EUR',
      balance: '100.5',
      status: 'OPEN',
      version: 1,
      openedAt: occurredAt(0),
      updatedAt: occurredAt(0),
    }));

  it('adds credits and subtracts debits exactly, a transfer’s and a refund’s too', () =>
    given([
      opened('0.1'),
      { type: 'AccountCredited', data: { amount: '0.2' } },
      { type: 'AccountDebited', data: { amount: '0.05' } },
      { type: 'AccountDebitedForTransfer', data: { transferId: transfer, amount: '0.25' } },
      { type: 'AccountTransferRefunded', data: { transferId: transfer, amount: '0.25' } },
      { type: 'AccountCreditedForTransfer', data: { transferId: 'mt_u', amount: '1' } },
    ]).thenMatches({ balance: '1.25', version: 6, updatedAt: occurredAt(5), openedAt: occurredAt(0) }));

  it('counts a declined debit, transfer debit or transfer credit as a version, balance unchanged', () =>
    given([
      opened('10'),
      { type: 'AccountDebitDeclined', data: { amount: '20', balance: '10' } },
      { type: 'AccountTransferDebitDeclined', data: { transferId: transfer, amount: '20', balance: '10', reason: 'INSUFFICIENT_FUNDS' } },
      { type: 'AccountTransferCreditDeclined', data: { transferId: 'mt_u', amount: '5', balance: '10' } },
    ]).thenMatches({ balance: '10', version: 4, updatedAt: occurredAt(3) }));

  it('is CLOSED after AccountClosed', () =>
    given([opened(), { type: 'AccountClosed', data: {} }]).thenMatches({ status: 'CLOSED', version: 2 }));

  it('has no row for events without an opening', () => given([{ type: 'AccountCredited', data: { amount: '1' } }]).then(undefined));
});
