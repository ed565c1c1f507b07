// Static texts stored as UTF-8, for the messages a plugin logs. A string literal is UTF-16 behind a
// 20-byte header, so an ASCII text costs more than twice its length, and the line buffer converts it
// to UTF-8 each time it is logged. Written `utf8("unit_id out of range")`, the same text costs its
// length plus two, and goes to the log as it is:
//   lineUtf8(utf8("device "));           refuse(point, utf8("its access is read"));
// `wasmgate plugin build` replaces each literal with the address of its bytes
// (src/host/plugin-build/utf8-literals.ts); the argument must be the literal itself.

/** A static text: a u16 byte count, then that many bytes of UTF-8. Made only by utf8(). */
@unmanaged
export class Utf8 {
  /** Bytes of text. */
  @inline get length(): i32 {
    return <i32>load<u16>(changetype<usize>(this));
  }

  /** Address of the first byte. */
  @inline get bytes(): usize {
    return changetype<usize>(this) + 2;
  }
}

/** `utf8("text")`: the literal as a static UTF-8 text. The build hands this the literal's data. */
@inline export function utf8<T>(data: T): Utf8 {
  if (isString<T>()) ERROR("utf8() takes a string literal, written in the call: the plugin build makes it static UTF-8");
  return changetype<Utf8>(data);
}
