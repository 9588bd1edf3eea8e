import { PostgresEventStore } from '../../src/eventstore/postgres-store.js';
import { useConnection } from '../helpers/app.js';
import { eventStoreContract } from './contract.js';

const connection = useConnection();

eventStoreContract('PostgreSQL', () => new PostgresEventStore(connection.db));
