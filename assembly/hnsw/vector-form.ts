// The stored form of a vector (the vector part of a node record) for each quantization: how many
// dims the kernels run over and how many bytes the part takes. No imports, so graph.ts and the
// snapshot can size records with it.
//
//   quant  vector part at vectorAt(n)                         kernel dims (codeDims)
//   0 f32  f32 x[codeDims]                                    dim padded to 4, zero tail
//   1 f16  u16 h[codeDims]                                    dim padded to 8, zero codes
//   2 i8   f32 scale, f32 sqnorm, i8 c[codeDims]              dim padded to 16, zero codes
//          x ~ scale * c, scale = max|x| / 127 (one per vector; 2^-149 where that
//          underflows, 0 only for a zero vector), sqnorm = scale^2 * (c . c)
//
// The kernels run over codeDims (whole v128s, no scalar tails): the padding is zero on both
// sides, so it adds nothing to a dot or a squared distance.

export const QUANT_F32: i32 = 0;
export const QUANT_F16: i32 = 1;
export const QUANT_I8: i32 = 2;

/** Bytes before an i8 vector's codes: its f32 scale and f32 squared norm. */
export const I8_PARAM_BYTES: u32 = 8;

/** Dims the kernels run over for `quant`: dim padded to 4 (f32), 8 (f16) or 16 (i8). */
@inline export function codeDimsFor(dim: i32, quant: i32): i32 {
  if (quant == QUANT_I8) return (dim + 15) & ~15;
  if (quant == QUANT_F16) return (dim + 7) & ~7;
  return (dim + 3) & ~3;
}

/** Bytes of the vector part of a record (and of a row of the snapshot's vectors section). */
@inline export function vectorBytesFor(dim: i32, quant: i32): u32 {
  const n = <u32>codeDimsFor(dim, quant);
  if (quant == QUANT_I8) return I8_PARAM_BYTES + n;
  if (quant == QUANT_F16) return n << 1;
  return n << 2;
}
