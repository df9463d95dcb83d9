// What kind of WebAssembly binary is this? Core modules and components share the magic number and
// differ in the version/layer field that follows it.

export type BinaryKind = 'module' | 'component';

export function binaryKind(bytes: Uint8Array): BinaryKind {
  const magic = bytes[0] === 0x00 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
  if (!magic || bytes.length < 8) throw new Error('not a WebAssembly binary (bad magic number)');
  const layer = bytes[6]! | (bytes[7]! << 8);
  return layer === 1 ? 'component' : 'module';
}
