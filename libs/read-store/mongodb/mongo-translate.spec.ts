import { cursorFilter, isCallersFault, toMongoFilter, toMongoSort, toMongoUpdate, toStoredDoc } from './mongo-translate';
import { topologyProblem } from './mongo-read-store';
import { InvalidQueryError } from '../document-update';
import { Filter } from '../port';

/**
 * The MongoDB adapter's translation of the port's documents, filters, sorts and updates, checked without a server.
 * What the server then does with them is the contract suite's (test/contracts/read-store.contract.ts, MONGODB_URL).
 */
describe('MongoDB translation', () => {
  const notArray = (f: string) => ({ [f]: { $not: { $type: 'array' } } });

  describe('documents', () => {
    it('become what their JSON reads back, as SQLite stores them', () => {
      const doc = { _id: 'a', u: undefined, nan: NaN, inf: Infinity, zero: -0, at: new Date('2025-01-02T03:04:05.000Z'), nested: { u: undefined, n: NaN }, list: [undefined, 1] };
      const stored = toStoredDoc(doc);
      expect(stored).toEqual({ _id: 'a', nan: null, inf: null, zero: 0, at: '2025-01-02T03:04:05.000Z', nested: { n: null }, list: [null, 1] });
      expect(Object.keys(stored)).not.toContain('u');
      expect(Object.is(stored.zero, 0)).toBe(true);
    });

    it('refuse a bigint', () => {
      expect(() => toStoredDoc({ _id: 'a', n: 1n } as never)).toThrow(TypeError);
    });
  });

  describe('filters', () => {
    it('an equality also excludes arrays (MongoDB would match an element); _id needs no guard', () => {
      expect(toMongoFilter({ user: 'ann' })).toEqual({ $and: [{ user: { $eq: 'ann' } }, notArray('user')] });
      expect(toMongoFilter({ _id: 'x' })).toEqual({ _id: { $eq: 'x' } });
      expect(toMongoFilter({})).toEqual({});
    });

    it('joins conditions with $and, one clause per operator, undefined conditions left out', () => {
      const f = { user: 'ann', n: { $gt: 3, $lte: 5, $lt: undefined }, tag: undefined } as unknown as Filter;
      expect(toMongoFilter(f)).toEqual({
        $and: [
          { $and: [{ user: { $eq: 'ann' } }, notArray('user')] },
          { $and: [{ n: { $gt: 3 } }, notArray('n')] },
          { $and: [{ n: { $lte: 5 } }, notArray('n')] },
        ],
      });
    });

    it('null matches null and missing; $in keeps null (MongoDB matches null and missing there too)', () => {
      expect(toMongoFilter({ tag: null })).toEqual({ $and: [{ tag: { $eq: null } }, notArray('tag')] });
      expect(toMongoFilter({ tag: { $in: [null, 'x'] } })).toEqual({ $and: [{ tag: { $in: [null, 'x'] } }, notArray('tag')] });
      expect(toMongoFilter({ _id: { $in: ['a', 'b'] } })).toEqual({ _id: { $in: ['a', 'b'] } });
    });

    it('$ne is "not equal" by $nor, so it matches arrays as SQLite does', () => {
      expect(toMongoFilter({ user: { $ne: 'ann' } })).toEqual({ $nor: [{ $and: [{ user: { $eq: 'ann' } }, notArray('user')] }] });
      expect(toMongoFilter({ tag: { $ne: null } })).toEqual({ $nor: [{ $and: [{ tag: { $eq: null } }, notArray('tag')] }] });
    });

    it('keeps booleans as booleans and dotted paths as paths', () => {
      expect(toMongoFilter({ is_read: false, 'nested.score': { $gte: 7 } })).toEqual({
        $and: [
          { $and: [{ is_read: { $eq: false } }, notArray('is_read')] },
          { $and: [{ 'nested.score': { $gte: 7 } }, notArray('nested.score')] },
        ],
      });
    });

    it.each([
      ['an unknown operator', { n: { $where: 'true' } }],
      ['a top-level operator', { $or: [{ n: 1 }] }],
      ['a field name outside [A-Za-z0-9_.]', { 'a b': 1 }],
      ['an empty path segment', { 'a..b': 1 }],
      ['a field starting with $', { $where: 1 }],
      ['NaN', { n: NaN }],
      ['Infinity in a range', { n: { $lt: Infinity } }],
      ['a Date', { at: new Date() }],
      ['an object value (an operator smuggled in $ne)', { n: { $ne: { $gt: 1 } } }],
      ['an operator inside $in', { n: { $in: [{ $gt: 1 }] } }],
      ['$in that is not an array', { n: { $in: 'x' } }],
      ['a range on null', { n: { $gte: null } }],
      ['an _id that is not a string', { _id: 5 }],
      ['an array value', { n: [1] }],
      ['a bigint', { n: 1n }],
    ])('refuses %s', (_, f) => {
      expect(() => toMongoFilter(f as unknown as Filter)).toThrow(InvalidQueryError);
    });
  });

  describe('sorts and cursors', () => {
    it('sorts by the field then _id, in the same direction; refuses a bad sort field', () => {
      expect(toMongoSort('n', 'desc')).toEqual({ n: -1, _id: -1 });
      expect(toMongoSort('_id', 'asc')).toEqual({ _id: 1 });
      expect(() => toMongoSort('n; drop', 'asc')).toThrow(InvalidQueryError);
    });

    it('continues after a value: larger values, or the same value with a larger id; descending, nulls come last', () => {
      expect(cursorFilter('n', 'asc', 5, 'r04')).toEqual({ $or: [{ n: { $gt: 5 } }, { $and: [{ n: { $eq: 5 } }, { _id: { $gt: 'r04' } }] }] });
      expect(cursorFilter('n', 'desc', 5, 'r04')).toEqual({ $or: [{ n: { $lt: 5 } }, { $and: [{ n: { $eq: 5 } }, { _id: { $lt: 'r04' } }] }, { n: null }] });
      expect(cursorFilter('_id', 'asc', 'r04', 'r04')).toEqual({ _id: { $gt: 'r04' } });
    });

    it('continues after a null: the nulls after the id, then (ascending) every non-null value', () => {
      expect(cursorFilter('s', 'asc', null, 'b')).toEqual({ $or: [{ $and: [{ s: null }, { _id: { $gt: 'b' } }] }, { s: { $ne: null } }] });
      expect(cursorFilter('s', 'desc', null, 'b')).toEqual({ $and: [{ s: null }, { _id: { $lt: 'b' } }] });
    });
  });

  describe('updates', () => {
    it('maps each operator, translating values as documents are', () => {
      const at = new Date('2025-01-01T00:00:00.000Z');
      expect(toMongoUpdate({ set: { plan: 'pro', 'limits.calls': 10, at, nan: NaN, gone: undefined }, inc: { calls: 2 }, max: { peak: 5 }, min: { low: 'a' }, unset: ['old'], setOnInsert: { created: 'x' } })).toEqual({
        $set: { plan: 'pro', 'limits.calls': 10, at: '2025-01-01T00:00:00.000Z', nan: null },
        $unset: { gone: '', old: '' },
        $inc: { calls: 2 },
        $max: { peak: 5 },
        $min: { low: 'a' },
        $setOnInsert: { created: 'x' },
      });
    });

    it('leaves out of $setOnInsert a path another operator sets (that one wins, as on SQLite)', () => {
      expect(toMongoUpdate({ setOnInsert: { plan: 'free', created: 1 }, set: { plan: 'pro' } })).toEqual({ $set: { plan: 'pro' }, $setOnInsert: { created: 1 } });
    });

    it('an empty update still creates the document', () => {
      expect(toMongoUpdate({})).toEqual({ $setOnInsert: {} });
      expect(toMongoUpdate({ set: {}, inc: {}, unset: [] })).toEqual({ $setOnInsert: {} });
    });

    it.each([
      ['a path and its prefix', { set: { a: 1 }, inc: { 'a.b': 1 } }],
      ['one path in set and unset', { set: { x: 1 }, unset: ['x'] }],
      ['one path in inc and max', { inc: { n: 1 }, max: { n: 2 } }],
      ['setOnInsert of a prefix of another path', { setOnInsert: { a: {} }, set: { 'a.b': 1 } }],
      ['set _id', { set: { _id: 'x' } }],
      ['unset _id', { unset: ['_id'] }],
      ['a nested _id path', { set: { '_id.x': 1 } }],
      ['inc by NaN', { inc: { n: NaN } }],
      ['inc by a string', { inc: { n: '1' } }],
      ['max of Infinity', { max: { n: Infinity } }],
      ['a field starting with $', { set: { $where: 1 } }],
      ['a bigint value', { set: { n: 1n } }],
    ])('refuses %s before it is sent', (_, u) => {
      expect(() => toMongoUpdate(u as never)).toThrow(InvalidQueryError);
    });
  });

  describe('errors and topology', () => {
    it("tells the caller's faults (MongoDB refused the request) from the store's", () => {
      expect(isCallersFault({ code: 14, codeName: 'TypeMismatch' })).toBe(true);
      expect(isCallersFault({ code: 28, codeName: 'PathNotViable' })).toBe(true);
      expect(isCallersFault({ code: 65, writeErrors: [{ code: 14 }] })).toBe(true);
      expect(isCallersFault(new InvalidQueryError('x'))).toBe(true);
      expect(isCallersFault({ code: 112, codeName: 'WriteConflict' })).toBe(false);
      expect(isCallersFault({ code: 251, codeName: 'NoSuchTransaction' })).toBe(false);
      expect(isCallersFault(new Error('socket hang up'))).toBe(false);
    });

    it('refuses a standalone server and one older than 5.0; accepts a replica set member and a mongos', () => {
      expect(topologyProblem({ isWritablePrimary: true, maxWireVersion: 21 })).toMatch(/standalone server.*replica set.*directConnection=true/);
      expect(topologyProblem({ setName: 'rs0', maxWireVersion: 9 })).toMatch(/older than MongoDB 5\.0/);
      expect(topologyProblem({ setName: 'rs0', maxWireVersion: 21 })).toBeNull();
      expect(topologyProblem({ msg: 'isdbgrid', maxWireVersion: 21 })).toBeNull();
    });
  });
});
