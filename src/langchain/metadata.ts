/**
 * Documents' metadata kept as index attributes, so LangChain object filters run as the index's
 * `where` filters.
 */
import { type AttributeValue, type FieldKind, MAX_ATTRIBUTE_FIELDS } from '../index.js';
import { isPlainObject } from '../util/json-value.js';

/**
 * The fields of documents' metadata the index keeps as attributes, for object filters: the
 * top-level values that are finite numbers, strings or booleans, each field with the kind of the
 * first value the index met (a value of another kind, a field past the 64th, a field name
 * starting with '$', or one the index does not declare, is not kept: a filter sees it as
 * absent). `kinds` is the index's fields, and takes the fields this call adds.
 */
export function metadataAttributes(
  metadata: unknown,
  kinds: Map<string, FieldKind>,
  declared: boolean,
): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  if (!isPlainObject(metadata)) return out;
  for (const [name, value] of Object.entries(metadata)) {
    const kind =
      typeof value === 'number' && Number.isFinite(value)
        ? 'number'
        : typeof value === 'string'
          ? 'string'
          : typeof value === 'boolean'
            ? 'boolean'
            : undefined;
    if (kind === undefined || name.length === 0 || name.startsWith('$')) continue;
    const known = kinds.get(name);
    if (known === undefined) {
      if (declared || kinds.size >= MAX_ATTRIBUTE_FIELDS) continue;
      kinds.set(name, kind);
    } else if (known !== kind) continue;
    out[name] = value as AttributeValue;
  }
  return out;
}
