import { EventStore, ExpectedRevision, NewEvent, StoredEvent, WrongExpectedVersionError } from './port';

export interface Decider<S, C, E extends { type: string; data: unknown }> {
  initialState: () => S;
  evolve: (state: S, event: E) => S;
  /** Pure: returns the events the command causes (none is a valid answer) or throws a domain error. */
  decide: (command: C, state: S) => E[];
}

export interface HandleOptions {
  /** Bounded retries on a concurrency conflict; after that the WrongExpectedVersionError surfaces (HTTP 409). */
  retries?: number;
  correlationId?: string;
  causationId?: string;
  /** Time from the injected clock, stored in each event's metadata. */
  now: Date;
  /** Event ids to use (for idempotent commands); generated when absent. */
  eventIds?: (index: number) => string;
  /** Upcasts stored events (older shapes) before they are folded. */
  upcast?: (e: StoredEvent) => StoredEvent;
}

export interface HandleResult<S, E> {
  state: S;
  newEvents: E[];
  nextExpectedRevision: bigint;
}

/** Folds a stream into state, with the revision read (or 'no_stream'). */
export async function loadState<S, E extends { type: string; data: unknown }>(
  store: EventStore,
  streamId: string,
  decider: Pick<Decider<S, unknown, E>, 'initialState' | 'evolve'>,
  upcast?: (e: StoredEvent) => StoredEvent,
): Promise<{ state: S; revision: ExpectedRevision }> {
  const events = await store.readStream(streamId);
  let state = decider.initialState();
  for (const raw of events) {
    const e = upcast ? upcast(raw) : raw;
    state = decider.evolve(state, { type: e.type, data: e.data } as E);
  }
  return { state, revision: events.length ? events[events.length - 1].revision : 'no_stream' };
}

/** The one shape of a command handler: read and fold, decide, append with the revision read; retry on conflict. */
export async function handleCommand<S, C, E extends { type: string; data: unknown }>(
  store: EventStore,
  streamId: string,
  decider: Decider<S, C, E>,
  command: C,
  options: HandleOptions,
): Promise<HandleResult<S, E>> {
  const retries = options.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    const { state, revision } = await loadState(store, streamId, decider, options.upcast);
    const newEvents = decider.decide(command, state);
    if (newEvents.length === 0) return { state, newEvents, nextExpectedRevision: revision === 'no_stream' ? -1n : (revision as bigint) };
    const toAppend: NewEvent[] = newEvents.map((e, i) => ({
      id: options.eventIds ? options.eventIds(i) : crypto.randomUUID(),
      type: e.type,
      data: e.data,
      metadata: { occurredAt: options.now.toISOString(), correlationId: options.correlationId, causationId: options.causationId },
    }));
    try {
      const result = await store.append(streamId, toAppend, revision);
      const next = newEvents.reduce(decider.evolve, state);
      return { state: next, newEvents, nextExpectedRevision: result.nextExpectedRevision };
    } catch (err) {
      if (err instanceof WrongExpectedVersionError && attempt < retries) continue;
      throw err;
    }
  }
}
