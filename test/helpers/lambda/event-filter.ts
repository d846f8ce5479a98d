// Lambda's event filtering (an event source mapping's FilterCriteria), as AWS documents it: a pattern is matched
// against the record's JSON exactly as the function would receive it (for a DynamoDB stream: `eventName`,
// `dynamodb.NewImage.kind.S` …). Several filters are ORed; within a pattern every key must match (AND); the values
// listed for a key are ORed. Comparison operators this stand-in does not implement make it throw rather than guess.

export type MatchRule = string | number | boolean | null | { [operator: string]: unknown };
export interface FilterPattern {
  [key: string]: FilterPattern | MatchRule[];
}

/** A pattern this stand-in cannot evaluate faithfully: the template uses more than the harness knows. */
export class UnsupportedFilterError extends Error {
  override readonly name = 'UnsupportedFilterError';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Parses the template's `FilterCriteria.Filters[].Pattern` strings. */
export function parseFilterCriteria(criteria: unknown): FilterPattern[] {
  if (criteria === undefined) return [];
  const filters = isObject(criteria) ? criteria.Filters : undefined;
  if (!Array.isArray(filters)) throw new UnsupportedFilterError('FilterCriteria must have a Filters list');
  if (filters.length > 5) throw new UnsupportedFilterError(`Lambda takes at most 5 filters per mapping, the template has ${filters.length}`);
  return filters.map((filter, i) => {
    const pattern: unknown = isObject(filter) && typeof filter.Pattern === 'string' ? JSON.parse(filter.Pattern) : undefined;
    if (!isObject(pattern)) throw new UnsupportedFilterError(`FilterCriteria.Filters[${i}].Pattern must be a JSON object`);
    validatePattern(pattern, `Filters[${i}]`);
    return pattern as FilterPattern;
  });
}

const OPERATORS = new Set(['prefix', 'suffix', 'anything-but', 'numeric', 'exists', 'equals-ignore-case']);

function validatePattern(pattern: Record<string, unknown>, path: string): void {
  for (const [key, value] of Object.entries(pattern)) {
    if (Array.isArray(value)) {
      for (const rule of value) {
        if (isObject(rule)) {
          const [operator, ...more] = Object.keys(rule);
          if (operator === undefined || more.length > 0 || !OPERATORS.has(operator)) {
            throw new UnsupportedFilterError(`${path}.${key}: unsupported comparison ${JSON.stringify(rule)}`);
          }
        } else if (Array.isArray(rule)) throw new UnsupportedFilterError(`${path}.${key}: a match value cannot be a list`);
      }
    } else if (isObject(value)) validatePattern(value, `${path}.${key}`);
    else throw new UnsupportedFilterError(`${path}.${key}: a pattern value must be a list of match values or a nested pattern, got ${JSON.stringify(value)}`);
  }
}

/** Whether an event (record) passes the filters; no filters pass everything. */
export function passesFilters(event: unknown, filters: readonly FilterPattern[]): boolean {
  return filters.length === 0 || filters.some((pattern) => matchesPattern(event, pattern));
}

export function matchesPattern(event: unknown, pattern: FilterPattern): boolean {
  if (!isObject(event)) return false;
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = event[key];
    if (Array.isArray(expected)) return matchesRules(actual, expected);
    return isObject(actual) && matchesPattern(actual, expected);
  });
}

function matchesRules(actual: unknown, rules: readonly MatchRule[]): boolean {
  // An `exists: false` rule is the only one a missing field can satisfy.
  if (actual === undefined) return rules.some((rule) => isObject(rule) && rule.exists === false);
  const values = Array.isArray(actual) ? actual : [actual];
  return rules.some((rule) => values.some((value) => matchesRule(value, rule)));
}

function matchesRule(value: unknown, rule: MatchRule): boolean {
  if (!isObject(rule)) return literalEquals(value, rule);
  const [operator, operand] = Object.entries(rule)[0] ?? [];
  switch (operator) {
    case 'exists':
      // Exists matches leaf values only (a nested object is not a leaf).
      return operand === true ? !isObject(value) : false;
    case 'prefix':
      return typeof value === 'string' && typeof operand === 'string' && value.startsWith(operand);
    case 'suffix':
      return typeof value === 'string' && typeof operand === 'string' && value.endsWith(operand);
    case 'equals-ignore-case':
      return typeof value === 'string' && typeof operand === 'string' && value.toLowerCase() === operand.toLowerCase();
    case 'anything-but': {
      if (isObject(operand)) {
        const [inner, innerOperand] = Object.entries(operand)[0] ?? [];
        if (inner !== 'prefix' || typeof innerOperand !== 'string') throw new UnsupportedFilterError(`unsupported anything-but ${JSON.stringify(operand)}`);
        return typeof value === 'string' && !value.startsWith(innerOperand);
      }
      const excluded = Array.isArray(operand) ? operand : [operand];
      return !excluded.some((x) => literalEquals(value, x as MatchRule));
    }
    case 'numeric':
      return typeof value === 'number' && Array.isArray(operand) && numericMatches(value, operand);
    default:
      throw new UnsupportedFilterError(`unsupported comparison ${JSON.stringify(rule)}`);
  }
}

/** Strings match strings exactly, numbers match numbers by value (so 5 matches 5.0), and null matches null. */
function literalEquals(value: unknown, expected: MatchRule): boolean {
  if (typeof expected === 'number') return typeof value === 'number' && value === expected;
  return value === expected;
}

function numericMatches(value: number, conditions: readonly unknown[]): boolean {
  for (let i = 0; i < conditions.length; i += 2) {
    const op = conditions[i];
    const bound = conditions[i + 1];
    if (typeof bound !== 'number') throw new UnsupportedFilterError(`numeric comparison needs a number after ${String(op)}`);
    const ok = op === '=' ? value === bound : op === '<' ? value < bound : op === '<=' ? value <= bound : op === '>' ? value > bound : op === '>=' ? value >= bound : undefined;
    if (ok === undefined) throw new UnsupportedFilterError(`unsupported numeric operator ${String(op)}`);
    if (!ok) return false;
  }
  return true;
}
