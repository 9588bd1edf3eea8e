import { InMemoryEventStore } from '../../src/eventstore/memory-store.js';
import { eventStoreContract } from './contract.js';

eventStoreContract('in memory', () => new InMemoryEventStore());
