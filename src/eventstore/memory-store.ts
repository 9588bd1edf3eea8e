import { compareLogPositions } from './cursor.js';
import { ConcurrencyConflictError, EventStoreError } from './errors.js';
import { newId } from './ids.js';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  EventStoreSession,
  IdempotencyRecord,
  ReadLogOptions,
  ReadStreamOptions,
  StreamRef,
} from './store.js';
import type { Event, LogPosition, RecordedEvent, Snapshot } from './types.js';

type State = {
  log: RecordedEvent[];
  streams: Map<string, { aggregateType: string; version: number }>;
  snapshots: Map<string, Snapshot[]>;
  idempotency: Map<string, IdempotencyRecord>;
  nextPosition: bigint;
};

const copy = (state: State): State => ({
  log: [...state.log],
  streams: new Map(state.streams),
  snapshots: new Map(state.snapshots),
  idempotency: new Map(state.idempotency),
  nextPosition: state.nextPosition,
});

class MemorySession implements EventStoreSession {
  constructor(
    readonly state: State,
    private readonly transactionId: bigint,
  ) {}

  async readStream(aggregateId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const snapshotVersion = options.afterLatestSnapshot ? (this.state.snapshots.get(aggregateId)?.at(-1)?.version ?? 0) : 0;
    const after = Math.max(options.afterVersion ?? 0, snapshotVersion);
    return this.state.log
      .filter(
        (event) =>
          event.aggregateId === aggregateId &&
          event.version > after &&
          (!options.after || compareLogPositions(event.logPosition, options.after) > 0),
      )
      .sort((a, b) => a.version - b.version)
      .slice(0, options.limit ?? Number.MAX_SAFE_INTEGER);
  }

  async streamVersion(aggregateId: string): Promise<number | undefined> {
    return this.state.streams.get(aggregateId)?.version;
  }

  async readLog(options: ReadLogOptions): Promise<RecordedEvent[]> {
    return this.state.log
      .filter(
        (event) =>
          (!options.after || compareLogPositions(event.logPosition, options.after) > 0) &&
          (!options.until || compareLogPositions(event.logPosition, options.until) <= 0) &&
          (options.aggregateId === undefined || event.aggregateId === options.aggregateId) &&
          (options.aggregateType === undefined || event.aggregateType === options.aggregateType) &&
          (options.types === undefined || options.types.includes(event.type)),
      )
      .sort((a, b) => compareLogPositions(a.logPosition, b.logPosition))
      .slice(0, options.limit);
  }

  async hasEvent(at: LogPosition): Promise<boolean> {
    return this.state.log.some((event) => compareLogPositions(event.logPosition, at) === 0);
  }

  async loadSnapshot<S>(aggregateId: string): Promise<Snapshot<S> | null> {
    const latest = this.state.snapshots.get(aggregateId)?.at(-1);
    if (!latest) return null;
    const version = await this.streamVersion(aggregateId);
    if (version === undefined || latest.version > version) {
      throw new EventStoreError(`snapshot of ${aggregateId} at version ${latest.version} is newer than its stream`);
    }
    return latest as Snapshot<S>;
  }

  /** Transactions run one at a time here: nothing to wait for. */
  async lockStream(): Promise<void> {}

  async lockIdempotencyKey(): Promise<void> {}

  async appendToStream(stream: StreamRef, events: readonly Event[], options: AppendOptions): Promise<AppendResult> {
    if (events.length === 0) throw new EventStoreError(`nothing to append to ${stream.aggregateId}`);
    const current = this.state.streams.get(stream.aggregateId);
    const expected = options.expectedVersion;
    if (expected !== undefined && (current?.version ?? 0) !== expected) {
      throw new ConcurrencyConflictError(stream.aggregateId, expected, current?.version);
    }
    if (current && current.aggregateType !== stream.aggregateType) {
      throw new EventStoreError(`stream ${stream.aggregateId} is a ${current.aggregateType}, not a ${stream.aggregateType}`);
    }
    const base = current?.version ?? 0;
    const recordedAt = new Date();
    const recorded = events.map(
      (event, index): RecordedEvent => ({
        ...event,
        id: options.eventIds?.[index] ?? newId('evt'),
        aggregateId: stream.aggregateId,
        aggregateType: stream.aggregateType,
        version: base + index + 1,
        metadata: options.metadata,
        occurredAt: options.occurredAt,
        recordedAt,
        logPosition: { transactionId: this.transactionId, position: this.state.nextPosition++ },
      }),
    );
    this.state.log.push(...recorded);
    const version = base + events.length;
    this.state.streams.set(stream.aggregateId, { aggregateType: stream.aggregateType, version });
    return { version, events: recorded };
  }

  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    const version = await this.streamVersion(snapshot.aggregateId);
    if (version === undefined || snapshot.version > version || snapshot.version < 1) {
      throw new EventStoreError(`snapshot of ${snapshot.aggregateId} at version ${snapshot.version} does not match its stream`);
    }
    const kept = (this.state.snapshots.get(snapshot.aggregateId) ?? []).filter((s) => s.version !== snapshot.version);
    this.state.snapshots.set(
      snapshot.aggregateId,
      [...kept, structuredClone(snapshot)].sort((a, b) => a.version - b.version),
    );
  }

  async findIdempotencyRecord(key: string): Promise<IdempotencyRecord | null> {
    return this.state.idempotency.get(key) ?? null;
  }

  async saveIdempotencyRecord(record: IdempotencyRecord): Promise<boolean> {
    if (this.state.idempotency.has(record.key)) return false;
    this.state.idempotency.set(record.key, record);
    return true;
  }
}

/**
 * An event store in memory for fast decider and handler tests. Transactions run one at a time
 * on a copy of the state that replaces it only on success, so a failure leaves nothing behind.
 */
export class InMemoryEventStore implements EventStore {
  private state: State = {
    log: [],
    streams: new Map(),
    snapshots: new Map(),
    idempotency: new Map(),
    nextPosition: 1n,
  };
  private nextTransactionId = 1n;
  private queue: Promise<unknown> = Promise.resolve();

  transaction<T>(work: (session: EventStoreSession) => Promise<T>): Promise<T> {
    const run = async () => {
      const session = new MemorySession(copy(this.state), this.nextTransactionId++);
      const result = await work(session);
      this.state = session.state;
      return result;
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private get reader(): MemorySession {
    return new MemorySession(this.state, 0n);
  }

  readStream(aggregateId: string, options?: ReadStreamOptions) {
    return this.reader.readStream(aggregateId, options);
  }
  streamVersion(aggregateId: string) {
    return this.reader.streamVersion(aggregateId);
  }
  readLog(options: ReadLogOptions) {
    return this.reader.readLog(options);
  }
  hasEvent(at: LogPosition) {
    return this.reader.hasEvent(at);
  }
  loadSnapshot<S>(aggregateId: string) {
    return this.reader.loadSnapshot<S>(aggregateId);
  }
}
