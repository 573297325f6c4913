// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * The safetensors file format, written and read without dependencies, so
 * that checkpoints open in other ecosystems (Python `safetensors`, Rust,
 * JavaScript):
 *
 * ```
 * 8 bytes   N, the header length, unsigned 64-bit little-endian
 * N bytes   JSON header: { "<name>": { "dtype": "F32", "shape": [..],
 *           "data_offsets": [begin, end] }, ..., "__metadata__": { str: str } }
 *           padded with spaces to a multiple of 8 bytes
 * rest      the tensors' raw little-endian bytes; offsets are relative to here
 * ```
 *
 * @module
 */

/** Element types this module reads and writes. */
export type Dtype = "F32" | "F64";

/** One tensor of a safetensors file. */
export interface Tensor {
  /** Element type. */
  dtype: Dtype;
  /** Shape, row-major. */
  shape: number[];
  /** The values (`Float32Array` for F32, `Float64Array` for F64). */
  data: Float32Array | Float64Array;
}

/** A decoded safetensors file. */
export interface SafetensorsFile {
  /** Tensors by name, in file order. */
  tensors: Map<string, Tensor>;
  /** The `__metadata__` strings. */
  metadata: Record<string, string>;
}

/** A file that is not valid safetensors; the message says why. */
export class SafetensorsError extends Error {
  /** @param message What is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "SafetensorsError";
  }
}

const SIZE: Record<Dtype, number> = { F32: 4, F64: 8 };
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Encodes tensors and metadata as a safetensors file.
 *
 * @param tensors Tensors by name (written in this order).
 * @param metadata Free-form strings stored under `__metadata__`.
 * @returns The file's bytes.
 */
export function encodeSafetensors(
  tensors: Iterable<[string, Tensor]>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const list: [string, Tensor][] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === "__metadata__") {
      throw new RangeError('a tensor cannot be named "__metadata__"');
    }
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new RangeError(
        `tensor ${name} has ${t.data.length} values but shape [${t.shape}]`,
      );
    }
    const bytes = count * SIZE[t.dtype];
    header[name] = {
      dtype: t.dtype,
      shape: t.shape,
      data_offsets: [offset, offset + bytes],
    };
    list.push([name, t]);
    offset += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const [, t] of list) {
    const want = t.dtype === "F32"
      ? (t.data instanceof Float32Array ? t.data : Float32Array.from(t.data))
      : (t.data instanceof Float64Array ? t.data : Float64Array.from(t.data));
    if (LITTLE) {
      out.set(
        new Uint8Array(want.buffer, want.byteOffset, want.byteLength),
        pos,
      );
    } else {
      for (let i = 0; i < want.length; i++) {
        if (t.dtype === "F32") view.setFloat32(pos + 4 * i, want[i], true);
        else view.setFloat64(pos + 8 * i, want[i], true);
      }
    }
    pos += want.byteLength;
  }
  return out;
}

/**
 * Decodes a safetensors file, checking its structure: the header length,
 * the JSON, every dtype, shape and offset, and that the tensors tile the
 * data area exactly.
 *
 * @param bytes The file's bytes.
 * @returns Tensors and metadata.
 * @throws {SafetensorsError} When the bytes are not a valid file.
 */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.length < 8) {
    throw new SafetensorsError(`file is ${bytes.length} bytes, too short`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) {
    throw new SafetensorsError(
      `header length ${n} exceeds the file (${bytes.length} bytes)`,
    );
  }
  const headerEnd = 8 + Number(n);
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(
        bytes.subarray(8, headerEnd),
      ),
    );
  } catch {
    throw new SafetensorsError("header is not valid JSON");
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new SafetensorsError("header is not a JSON object");
  }
  const dataLen = bytes.length - headerEnd;
  const metadata: Record<string, string> = {};
  const entries: [string, Dtype, number[], number, number][] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (typeof raw !== "object" || raw === null) {
        throw new SafetensorsError("__metadata__ is not an object");
      }
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== "string") {
          throw new SafetensorsError(`metadata ${k} is not a string`);
        }
        metadata[k] = v;
      }
      continue;
    }
    const e = raw as {
      dtype?: unknown;
      shape?: unknown;
      data_offsets?: unknown;
    };
    if (typeof e !== "object" || e === null) {
      throw new SafetensorsError(`tensor ${name} is not an object`);
    }
    if (e.dtype !== "F32" && e.dtype !== "F64") {
      throw new SafetensorsError(
        `tensor ${name} has unsupported dtype ${JSON.stringify(e.dtype)}`,
      );
    }
    const shape = e.shape, offs = e.data_offsets;
    if (
      !Array.isArray(shape) ||
      !shape.every((d) => Number.isSafeInteger(d) && d >= 0)
    ) {
      throw new SafetensorsError(`tensor ${name} has an invalid shape`);
    }
    if (
      !Array.isArray(offs) || offs.length !== 2 ||
      !offs.every((d) => Number.isSafeInteger(d) && d >= 0) ||
      offs[0] > offs[1] || offs[1] > dataLen
    ) {
      throw new SafetensorsError(
        `tensor ${name} has invalid data offsets (data area is ${dataLen} bytes)`,
      );
    }
    const count = shape.reduce((a: number, b: number) => a * b, 1);
    if (offs[1] - offs[0] !== count * SIZE[e.dtype]) {
      throw new SafetensorsError(
        `tensor ${name} spans ${
          offs[1] - offs[0]
        } bytes but shape [${shape}] needs ${count * SIZE[e.dtype]}`,
      );
    }
    entries.push([name, e.dtype, shape, offs[0], offs[1]]);
  }
  // The tensors must tile the data area: no gaps, no overlaps.
  const sorted = [...entries].sort((a, b) => a[3] - b[3]);
  let end = 0;
  for (const [name, , , b, e] of sorted) {
    if (b !== end) {
      throw new SafetensorsError(
        `tensor ${name} starts at ${b}, expected ${end} (gap or overlap)`,
      );
    }
    end = e;
  }
  if (end !== dataLen) {
    throw new SafetensorsError(
      `tensors cover ${end} of ${dataLen} data bytes (truncated or padded file)`,
    );
  }
  const tensors = new Map<string, Tensor>();
  for (const [name, dtype, shape, b, e] of entries) {
    const start = headerEnd + b, count = (e - b) / SIZE[dtype];
    const data = dtype === "F32"
      ? new Float32Array(count)
      : new Float64Array(count);
    if (LITTLE) {
      new Uint8Array(data.buffer).set(bytes.subarray(start, headerEnd + e));
    } else {
      for (let i = 0; i < count; i++) {
        data[i] = dtype === "F32"
          ? view.getFloat32(start + 4 * i, true)
          : view.getFloat64(start + 8 * i, true);
      }
    }
    tensors.set(name, { dtype, shape, data });
  }
  return { tensors, metadata };
}
