// Base64 for ArrayBuffer contents, without Node's Buffer (the runtime also runs in
// browsers). Decoding rejects anything that is not canonical base64.
const ABC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < ABC.length; i++) INDEX[ABC.charCodeAt(i)] = i;

export function toBase64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += ABC[n >> 18] + ABC[(n >> 12) & 63] + ABC[(n >> 6) & 63] + ABC[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += ABC[n >> 18] + ABC[(n >> 12) & 63] + '==';
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += ABC[n >> 18] + ABC[(n >> 12) & 63] + ABC[(n >> 6) & 63] + '=';
  }
  return out;
}

/** The decoded bytes, or null if `s` is not valid base64. */
export function fromBase64(s: string): Uint8Array | null {
  if (s.length % 4 !== 0) return null;
  let pad = 0;
  if (s.endsWith('==')) pad = 2;
  else if (s.endsWith('=')) pad = 1;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = s.charCodeAt(i + j);
      let d: number;
      if (c === 61 && i + 4 === s.length && j >= 4 - pad) d = 0;
      else {
        d = c < 128 ? INDEX[c] : -1;
        if (d < 0) return null;
      }
      n = (n << 6) | d;
    }
    if (o < out.length) out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}
