// Reads NumPy .npz files (np.savez: a stored, uncompressed zip of .npy files) for the tests.
import { readFileSync } from 'node:fs';

const TYPES = { '<f4': Float32Array, '<f8': Float64Array, '<i4': Int32Array, '<i8': BigInt64Array,
  '|u1': Uint8Array, '|i1': Int8Array, '|b1': Uint8Array };

function parseNpy(buf) {
  if (buf[0] !== 0x93 || String.fromCharCode(...buf.subarray(1, 6)) !== 'NUMPY') {
    throw new Error('not a .npy');
  }
  const major = buf[6];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const hstart = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(buf.subarray(hstart, hstart + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error('fortran order .npy');
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim())
    .filter((s) => s).map(Number);
  const T = TYPES[descr];
  if (!T) throw new Error(`dtype ${descr}`);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = buf.slice(hstart + hlen, hstart + hlen + n * T.BYTES_PER_ELEMENT);
  return { shape, dtype: descr, data: new T(data.buffer, data.byteOffset, n) };
}

export function readNpz(path) {
  const buf = new Uint8Array(readFileSync(path));
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out = {};
  let p = 0;
  while (p + 30 <= buf.length && dv.getUint32(p, true) === 0x04034b50) {
    const method = dv.getUint16(p + 8, true);
    let csize = dv.getUint32(p + 18, true);
    const nlen = dv.getUint16(p + 26, true);
    const xlen = dv.getUint16(p + 28, true);
    const name = new TextDecoder().decode(buf.subarray(p + 30, p + 30 + nlen));
    if (csize === 0xffffffff) { // zip64: sizes in the extra field (id 1: usize, csize)
      let q = p + 30 + nlen;
      const end = q + xlen;
      while (q < end) {
        const id = dv.getUint16(q, true); const len = dv.getUint16(q + 2, true);
        if (id === 1) csize = Number(dv.getBigUint64(q + 12, true));
        q += 4 + len;
      }
    }
    if (method !== 0) throw new Error(`${path}: ${name} is compressed (np.savez_compressed)`);
    const start = p + 30 + nlen + xlen;
    out[name.replace(/\.npy$/, '')] = parseNpy(buf.subarray(start, start + csize));
    p = start + csize;
  }
  return out;
}
