/**
 * What LangGraph's stores read out of an item's value: the texts a field path names (for
 * embedding) and whether a value passes a search filter. Both follow the semantics of
 * `InMemoryStore` of @langchain/langgraph-checkpoint 1.2, so an ElexStore embeds the same texts
 * and keeps the same items as it does.
 */

/**
 * The tokens of a field path: names split at dots, with `[...]` (an array index: `[0]`, `[-1]`,
 * `[*]`) and `{a,b.c}` (several fields) as tokens of their own. Cost: O(path).
 */
export function tokenizePath(path: string): string[] {
  const tokens: string[] = [];
  let name = '';
  const flush = () => {
    if (name !== '') tokens.push(name);
    name = '';
  };
  for (let i = 0; i < path.length; ) {
    const c = path[i];
    const close = c === '[' ? ']' : c === '{' ? '}' : '';
    if (close !== '') {
      flush();
      let depth = 0;
      const start = i;
      do {
        if (path[i] === c) depth++;
        else if (path[i] === close) depth--;
        i++;
      } while (i < path.length && depth > 0);
      tokens.push(path.slice(start, i));
      continue;
    }
    if (c === '.') flush();
    else name += c;
    i++;
  }
  flush();
  return tokens;
}

/** A value as text to embed: strings, numbers and booleans as they print, objects as 2-space JSON. */
function asText(value: unknown): string[] {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (value !== null && typeof value === 'object') return [JSON.stringify(value, null, 2)];
  return [];
}

/**
 * The texts field path `path` names in `value`: `"$"` the whole value as JSON (and, as
 * InMemoryStore reads it, its own `"$"` field's text if it has one), `"a.b"` a nested field,
 * `"list[*].text"` one text per element, `"list[-1]"` the last, `"{a,b}"` several fields. A path
 * that names nothing gives no text. Cost: O(the parts of value the path reaches).
 */
export function textsAtPath(value: unknown, path: string, tokens: readonly string[] = tokenizePath(path)): string[] {
  const walk = (node: unknown, at: number): string[] => {
    if (at >= tokens.length) return asText(node);
    const token = tokens[at];
    const out: string[] = at === 0 && token === '$' ? [JSON.stringify(node, null, 2)] : [];
    if (token.startsWith('[') && token.endsWith(']')) {
      if (!Array.isArray(node)) return [];
      const index = token.slice(1, -1);
      if (index === '*') for (const element of node) out.push(...walk(element, at + 1));
      else {
        let i = Number.parseInt(index, 10);
        if (i < 0) i += node.length;
        if (i >= 0 && i < node.length) out.push(...walk(node[i], at + 1));
      }
    } else if (token.startsWith('{') && token.endsWith('}')) {
      if (node === null || typeof node !== 'object') return [];
      for (const field of token.slice(1, -1).split(',')) {
        let found: unknown = node;
        for (const part of tokenizePath(field.trim())) {
          if (found !== null && typeof found === 'object' && part in found)
            found = (found as Record<string, unknown>)[part];
          else {
            found = undefined;
            break;
          }
        }
        // A null field is the text 'null' here (JSON's), as InMemoryStore embeds it.
        if (found === null) out.push('null');
        else if (found !== undefined) out.push(...asText(found));
      }
    } else if (token === '*') {
      if (node !== null && typeof node === 'object')
        for (const element of Object.values(node)) out.push(...walk(element, at + 1));
    } else if (node !== null && typeof node === 'object' && token in node) {
      out.push(...walk((node as Record<string, unknown>)[token], at + 1));
    }
    return out;
  };
  return walk(value, 0);
}

const OPERATORS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin']);

/** Whether `condition` is an object of comparison operators only (`{ $gt: 3 }`; `{}` counts). */
function isOperators(condition: unknown): condition is Record<string, unknown> {
  return condition !== null && typeof condition === 'object' && Object.keys(condition).every((k) => OPERATORS.has(k));
}

/** Whether `actual` (a top-level field of an item's value) passes `condition`. */
function passes(actual: unknown, condition: unknown): boolean {
  if (!isOperators(condition)) return actual === condition;
  return Object.entries(condition).every(([op, expected]) => {
    switch (op) {
      case '$eq':
        return actual === expected;
      case '$ne':
        return actual !== expected;
      case '$gt':
        return Number(actual) > Number(expected);
      case '$gte':
        return Number(actual) >= Number(expected);
      case '$lt':
        return Number(actual) < Number(expected);
      case '$lte':
        return Number(actual) <= Number(expected);
      case '$in':
        return Array.isArray(expected) && expected.includes(actual);
      default: // $nin
        return !Array.isArray(expected) || !expected.includes(actual);
    }
  });
}

/**
 * Whether an item's `value` passes a search filter: every entry `field: condition` holds of
 * `value[field]` (a top-level field), a condition being a value compared with `===` or an
 * object of operators `$eq $ne $gt $gte $lt $lte $in $nin` (the comparisons numeric, as
 * LangGraph's InMemoryStore has them). Cost: O(filter entries).
 */
export function matchesFilter(value: Record<string, unknown>, filter: Record<string, unknown>): boolean {
  for (const field of Object.keys(filter)) if (!passes(value[field], filter[field])) return false;
  return true;
}
