// Frames from the server as binary messages (glassnet/playground/wire.py): a little-endian uint32 n, n bytes of
// JSON, then the arrays the JSON points at ({"$array": [offset, length, shape], "dtype"}), viewed as typed arrays.

const VIEWS = { uint8: Uint8Array, float32: Float32Array };

/** The message in `buffer` (an ArrayBuffer), its arrays as typed-array views into the buffer (no copies). */
export function decodeFrame(buffer) {
  const length = new DataView(buffer).getUint32(0, true);
  const start = 4 + length;
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, length)));
  const give = (value) => {
    if (Array.isArray(value)) return value.map(give);
    if (value === null || typeof value !== "object") return value;
    if ("$array" in value) {
      const [offset, count] = value.$array;
      return new VIEWS[value.dtype](buffer, start + offset, count);
    }
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, give(item)]));
  };
  return give(header);
}
