// Lambda's event filtering as the stream stand-in applies it: the rules AWS documents, on records shaped as Lambda
// delivers them, and the aggregator's own FilterCriteria as lib/aggregator.ts synthesizes it.
import { describe, expect, it } from 'vitest';
import { resourceOf, sharedDeployment } from '../helpers/lambda/deployment';
import { matchesPattern, parseFilterCriteria, passesFilters, UnsupportedFilterError, type FilterPattern } from '../helpers/lambda/event-filter';

const record = (eventName: string, image?: Record<string, unknown>) => ({ eventName, eventSource: 'aws:dynamodb', dynamodb: { Keys: { pk: { S: 'rounds' } }, ...(image ? { NewImage: image } : {}), SizeBytes: 26 } });

describe('event filter patterns', () => {
  it('ANDs the keys of a pattern, ORs the values listed for a key, and ORs the filters', () => {
    const pattern: FilterPattern = { eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { kind: { S: ['round'] } } } };
    expect(matchesPattern(record('INSERT', { kind: { S: 'round' } }), pattern)).toBe(true);
    expect(matchesPattern(record('MODIFY', { kind: { S: 'round' } }), pattern)).toBe(true);
    expect(matchesPattern(record('REMOVE', { kind: { S: 'round' } }), pattern)).toBe(false);
    expect(matchesPattern(record('INSERT', { kind: { S: 'claim' } }), pattern)).toBe(false);
    // A missing field never matches a value, and a value is not a nested object.
    expect(matchesPattern(record('INSERT'), pattern)).toBe(false);
    expect(matchesPattern(record('INSERT', { kind: { N: 'round' } }), pattern)).toBe(false);
    expect(matchesPattern(record('INSERT', { kind: 'round' }), pattern)).toBe(false);
    expect(passesFilters(record('REMOVE'), [pattern, { eventName: ['REMOVE'] }])).toBe(true);
    expect(passesFilters(record('REMOVE'), [])).toBe(true);
  });

  it('matches strings exactly and numbers by value, and an array field when any element matches', () => {
    expect(matchesPattern({ n: 5 }, { n: [5.0] })).toBe(true);
    expect(matchesPattern({ n: '5' }, { n: [5] })).toBe(false);
    expect(matchesPattern({ s: 'Round' }, { s: ['round'] })).toBe(false);
    expect(matchesPattern({ tags: ['a', 'b'] }, { tags: ['b'] })).toBe(true);
    expect(matchesPattern({ v: null }, { v: [null] })).toBe(true);
  });

  it('supports exists, prefix, suffix, equals-ignore-case, anything-but and numeric ranges', () => {
    expect(matchesPattern({ a: 'x' }, { a: [{ exists: true }] })).toBe(true);
    expect(matchesPattern({}, { a: [{ exists: false }] })).toBe(true);
    expect(matchesPattern({ a: 'x' }, { a: [{ exists: false }] })).toBe(false);
    expect(matchesPattern({ a: { b: 1 } }, { a: [{ exists: true }] })).toBe(false);
    expect(matchesPattern({ sk: '0001#us-east-1' }, { sk: [{ prefix: '0001#' }] })).toBe(true);
    expect(matchesPattern({ sk: 'a.json' }, { sk: [{ suffix: '.json' }] })).toBe(true);
    expect(matchesPattern({ e: 'insert' }, { e: [{ 'equals-ignore-case': 'INSERT' }] })).toBe(true);
    expect(matchesPattern({ e: 'REMOVE' }, { e: [{ 'anything-but': ['REMOVE'] }] })).toBe(false);
    expect(matchesPattern({ e: 'INSERT' }, { e: [{ 'anything-but': 'REMOVE' }] })).toBe(true);
    expect(matchesPattern({}, { e: [{ 'anything-but': 'REMOVE' }] })).toBe(false);
    expect(matchesPattern({ e: 'tmp-1' }, { e: [{ 'anything-but': { prefix: 'tmp-' } }] })).toBe(false);
    expect(matchesPattern({ n: 7 }, { n: [{ numeric: ['>', 5, '<=', 7] }] })).toBe(true);
    expect(matchesPattern({ n: 8 }, { n: [{ numeric: ['>', 5, '<=', 7] }] })).toBe(false);
  });

  it('refuses what it cannot evaluate faithfully instead of guessing', () => {
    expect(() => parseFilterCriteria({ Filters: [{ Pattern: JSON.stringify({ a: [{ wildcard: '*x' }] }) }] })).toThrow(UnsupportedFilterError);
    expect(() => parseFilterCriteria({ Filters: [{ Pattern: JSON.stringify({ a: 'x' }) }] })).toThrow(/must be a list of match values/);
    expect(() => parseFilterCriteria({ Filters: Array.from({ length: 6 }, () => ({ Pattern: '{}' })) })).toThrow(/at most 5 filters/);
  });

  it('reads the aggregator\'s FilterCriteria as synthesized: round items inserted or rewritten, nothing else', async () => {
    const deployment = await sharedDeployment();
    for (const stack of deployment.stacks) {
      const [, mapping] = resourceOf(stack, 'AWS::Lambda::EventSourceMapping', 'AggregatorResultsStream');
      const filters = parseFilterCriteria(mapping.Properties?.FilterCriteria);
      expect(passesFilters(record('INSERT', { kind: { S: 'round' } }), filters)).toBe(true);
      expect(passesFilters(record('MODIFY', { kind: { S: 'round' } }), filters)).toBe(true);
      expect(passesFilters(record('REMOVE'), filters)).toBe(false);
      expect(passesFilters(record('INSERT', { kind: { S: 'slot-claim' } }), filters)).toBe(false);
    }
  }, 240_000);
});
