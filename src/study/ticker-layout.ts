// The memory the ticker and its worker share, importing nothing: a lock, the line's head and the times it was drawn with.

/** Bytes of the line's head the ticker keeps (a longer head is cut). */
export const HEAD_BYTES = 1024;

/**
 * ints: [0] lock (1 while a thread writes the line), [1] active, [2] the head's length in bytes; nums: [0] when the
 * main thread last drew (Date.now ms), [1] elapsed and [2] ETA (ms) it drew; text: the head, UTF-8.
 */
export function tickerViews(buffer: SharedArrayBuffer): { ints: Int32Array; nums: Float64Array; text: Uint8Array } {
  return { ints: new Int32Array(buffer, 0, 4), nums: new Float64Array(buffer, 16, 3), text: new Uint8Array(buffer, 40, HEAD_BYTES) };
}

export const TICKER_BYTES = 40 + HEAD_BYTES;
