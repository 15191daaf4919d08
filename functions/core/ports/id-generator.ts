/** Generates unique identifiers; injected so tests can be deterministic. */
export interface IdGenerator {
  /** A new unique id with the given prefix, e.g. `req_01J…`. */
  next(prefix: string): string;
}
