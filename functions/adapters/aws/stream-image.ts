import type { AttributeValue } from 'aws-lambda';

/**
 * A DynamoDB Streams image as a plain object (`@aws-sdk/lib-dynamodb` does the same for
 * reads, but stream records arrive in the wire format). Numbers become JS numbers, as the
 * document store writes them; binary values stay base64 strings (the audit items hold none).
 */
export function streamImageToItem(image: Record<string, AttributeValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(image)) out[k] = valueOf(v);
  return out;
}

function valueOf(v: AttributeValue): unknown {
  if (v.S !== undefined) return v.S;
  if (v.N !== undefined) return Number(v.N);
  if (v.BOOL !== undefined) return v.BOOL;
  if (v.NULL !== undefined) return null;
  if (v.M !== undefined) return streamImageToItem(v.M);
  if (v.L !== undefined) return v.L.map(valueOf);
  if (v.SS !== undefined) return new Set(v.SS);
  if (v.NS !== undefined) return new Set(v.NS.map(Number));
  if (v.B !== undefined) return v.B;
  if (v.BS !== undefined) return new Set(v.BS);
  return undefined;
}
