import type { LogEvent } from './follow-events';
import type { EventLog as Log } from './use-event-log';

/** What an event says, in a few words. */
const detail = (event: LogEvent): string => {
  switch (event.__typename) {
    case 'AccountOpened':
      return `${event.owner}, ${event.initialBalance} ${event.currency}`;
    case 'AccountCredited':
    case 'AccountDebited':
    case 'AccountDebitedForTransfer':
    case 'AccountCreditedForTransfer':
    case 'MoneyTransferCreated':
      return event.amount;
    case 'MoneyTransferFailed':
      return event.reason;
    default:
      return '';
  }
};

export const EventLog = ({ log }: { log: Log }) => (
  <section aria-labelledby="log-title">
    <h2 id="log-title">
      Event log <small data-testid="log-count">{log.received} events</small>
    </h2>
    {log.error && <p role="alert">{log.error}</p>}
    <ol className="log" data-testid="event-log">
      {log.events.map((event) => (
        <li key={event.id} data-position={event.position} data-id={event.id}>
          <code className="type">{event.type}</code> <code>{event.aggregateId}</code> v{event.version}{' '}
          <span className="detail">{detail(event)}</span>
        </li>
      ))}
    </ol>
  </section>
);
