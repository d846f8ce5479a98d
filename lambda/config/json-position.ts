// Finds where JSON text goes wrong, as line and column: Node's own messages often omit the position.

export interface JsonSyntaxLocation {
  line: number;
  column: number;
  message: string;
}

/** Walks the text as a JSON grammar and reports the first place it breaks, or undefined if it parses. */
export function locateJsonSyntaxError(text: string): JsonSyntaxLocation | undefined {
  let i = 0;
  const fail = (message: string): never => {
    throw new LocatedError(i, message);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text.charAt(i))) i++;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail(`unexpected ${describe(text.charAt(i))}`);
  };
  const string = () => {
    i++;
    while (i < text.length) {
      const c = text.charAt(i);
      if (c === '"') {
        i++;
        return;
      }
      if (c === '\\') i += 2;
      else if (c === '\n') fail('unterminated string (a closing quote is missing)');
      else i++;
    }
    fail('unterminated string (a closing quote is missing)');
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!match || match[0] === '' || match[0] === '-') fail(`unexpected ${describe(text.charAt(i))}`);
    i += match?.[0].length ?? 0;
  };
  const value = (): void => {
    ws();
    const c = text.charAt(i);
    if (c === '{') return object();
    if (c === '[') return array();
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    if (i >= text.length) fail('unexpected end of file (something is not closed)');
    fail(`unexpected ${describe(c)}`);
  };
  const object = () => {
    i++;
    ws();
    if (text.charAt(i) === '}') {
      i++;
      return;
    }
    for (;;) {
      ws();
      if (text.charAt(i) !== '"') fail(text.charAt(i) === '}' ? 'trailing comma before }' : 'expected a double-quoted key');
      string();
      ws();
      if (text.charAt(i) !== ':') fail('expected : after the key');
      i++;
      value();
      ws();
      const c = text.charAt(i);
      if (c === ',') {
        i++;
        continue;
      }
      if (c === '}') {
        i++;
        return;
      }
      fail(i >= text.length ? 'unexpected end of file (an object is not closed)' : `expected , or } but found ${describe(c)}`);
    }
  };
  const array = () => {
    i++;
    ws();
    if (text.charAt(i) === ']') {
      i++;
      return;
    }
    for (;;) {
      value();
      ws();
      const c = text.charAt(i);
      if (c === ',') {
        i++;
        ws();
        if (text.charAt(i) === ']') fail('trailing comma before ]');
        continue;
      }
      if (c === ']') {
        i++;
        return;
      }
      fail(i >= text.length ? 'unexpected end of file (an array is not closed)' : `expected , or ] but found ${describe(c)}`);
    }
  };
  try {
    value();
    ws();
    if (i < text.length) fail(`unexpected ${describe(text.charAt(i))} after the end of the document`);
    return undefined;
  } catch (error: unknown) {
    if (!(error instanceof LocatedError)) throw error;
    const before = text.slice(0, error.offset);
    const line = before.split('\n').length;
    const column = error.offset - before.lastIndexOf('\n');
    return { line, column, message: error.message };
  }
}

class LocatedError extends Error {
  override readonly name = 'LocatedError';
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

function describe(c: string): string {
  return c === '' ? 'end of file' : JSON.stringify(c);
}
