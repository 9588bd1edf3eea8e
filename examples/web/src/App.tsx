import { useMemo, useState } from 'react';
import { Provider } from 'urql';
import { AccountList } from './Accounts';
import { createClients } from './clients';
import { EventLog } from './EventLog';
import { TransferForm } from './Transfer';
import { useEventLog } from './use-event-log';

const Live = ({ token }: { token: string }) => {
  const clients = useMemo(() => createClients(token), [token]);
  const log = useEventLog(clients.ws);
  return (
    <Provider value={clients.urql}>
      <div className="columns">
        <div>
          <AccountList ws={clients.ws} />
          <TransferForm log={log.events} />
        </div>
        <EventLog log={log} />
      </div>
    </Provider>
  );
};

/**
 * The token field is for a cairn with access control on (a Bearer JWT); VITE_CAIRN_TOKEN fills
 * it at build time. Empty, the app talks to an open cairn, the development default.
 */
export const App = () => {
  const [token, setToken] = useState<string>(import.meta.env.VITE_CAIRN_TOKEN ?? '');
  const [draft, setDraft] = useState(token);
  return (
    <main>
      <header>
        <h1>cairn</h1>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            setToken(draft.trim());
          }}
        >
          <input aria-label="Token" placeholder="Bearer token (optional)" value={draft} onChange={(e) => setDraft(e.target.value)} />
          <button>Use token</button>
        </form>
      </header>
      <Live key={token} token={token} />
    </main>
  );
};
