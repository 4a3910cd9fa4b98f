type NumberArray = Uint8Array | Int32Array | Uint32Array | Float64Array

/** A copy of `array`, of the same type, with room for `capacity` elements (the rest zero). */
export const grownArray = <T extends NumberArray>(array: T, capacity: number): T => {
  const grown = new (array.constructor as new (length: number) => T)(capacity)
  grown.set(array as never)
  return grown
}
