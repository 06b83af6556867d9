// Reads the executable header of a native file (ELF, Mach-O, PE) and says which OS format and CPU it
// is built for, so the packaging tests can prove a .vsix for one platform carries no binary for another
// without running it. Only the fields that decide format and architecture are read (from the spec:
// ELF e_ident/e_machine, Mach-O magic/cputype incl. universal files, PE COFF Machine + optional-header magic).
import { closeSync, openSync, readSync } from 'node:fs';

export type BinaryKind =
  | { format: 'elf'; arch: string; bits: 32 | 64 }
  | { format: 'macho'; arch: string[] }
  | { format: 'pe'; arch: string; pe32plus: boolean }
  | { format: 'unknown' };

const ELF_MACHINES: Record<number, string> = { 0x03: 'x86', 0x28: 'arm', 0x3e: 'x86-64', 0xb7: 'aarch64' };
const MACHO_CPUS: Record<number, string> = { 0x01000007: 'x86_64', 0x0100000c: 'arm64', 7: 'i386', 12: 'arm' };
const PE_MACHINES: Record<number, string> = { 0x8664: 'x64', 0xaa64: 'arm64', 0x14c: 'x86' };

export function readHeader(buf: Buffer): BinaryKind {
  if (buf.length >= 20 && buf.readUInt32BE(0) === 0x7f454c46) {
    const bits = buf[4] === 2 ? 64 : 32;
    const machine = buf[5] === 2 ? buf.readUInt16BE(18) : buf.readUInt16LE(18);
    return { format: 'elf', bits, arch: ELF_MACHINES[machine] ?? `0x${machine.toString(16)}` };
  }
  if (buf.length >= 8) {
    const le = buf.readUInt32LE(0);
    if (le === 0xfeedfacf || le === 0xfeedface) {
      const cpu = buf.readUInt32LE(4);
      return { format: 'macho', arch: [MACHO_CPUS[cpu] ?? `0x${cpu.toString(16)}`] };
    }
    if (buf.readUInt32BE(0) === 0xcafebabe) {
      // universal file: nfat_arch entries of 20 bytes, big-endian, cputype first
      const n = buf.readUInt32BE(4);
      const arch: string[] = [];
      for (let i = 0; i < n && 8 + i * 20 + 4 <= buf.length; i++) {
        const cpu = buf.readUInt32BE(8 + i * 20);
        arch.push(MACHO_CPUS[cpu] ?? `0x${cpu.toString(16)}`);
      }
      return { format: 'macho', arch };
    }
  }
  if (buf.length >= 0x40 && buf.toString('latin1', 0, 2) === 'MZ') {
    const pe = buf.readUInt32LE(0x3c);
    if (pe + 26 <= buf.length && buf.toString('latin1', pe, pe + 4) === 'PE\0\0') {
      const machine = buf.readUInt16LE(pe + 4);
      const optionalMagic = buf.readUInt16LE(pe + 24);
      return { format: 'pe', arch: PE_MACHINES[machine] ?? `0x${machine.toString(16)}`, pe32plus: optionalMagic === 0x20b };
    }
  }
  return { format: 'unknown' };
}

export function readHeaderOf(file: string): BinaryKind {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return readHeader(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

/** One line for messages: "ELF x86-64", "Mach-O arm64", "PE32+ x64". */
export function describe(kind: BinaryKind): string {
  switch (kind.format) {
    case 'elf': return `ELF${kind.bits} ${kind.arch}`;
    case 'macho': return `Mach-O ${kind.arch.join('+')}`;
    case 'pe': return `${kind.pe32plus ? 'PE32+' : 'PE32'} ${kind.arch}`;
    default: return 'not an executable';
  }
}

/**
 * The DLL names in a PE file's import table and its delay-load import table. A DLL in `imports` must be
 * found when the file loads; one in `delayed` only when a function of it is first called.
 */
export function peImports(buf: Buffer): { imports: string[]; delayed: string[] } {
  const pe = buf.readUInt32LE(0x3c);
  const sections = buf.readUInt16LE(pe + 6);
  const optionalSize = buf.readUInt16LE(pe + 20);
  const optional = pe + 24;
  const dataDirectories = optional + (buf.readUInt16LE(optional) === 0x20b ? 112 : 96);
  const table = optional + optionalSize;
  const offsetOf = (rva: number): number => {
    for (let i = 0; i < sections; i++) {
      const s = table + i * 40;
      const virtualSize = buf.readUInt32LE(s + 8), virtualAddress = buf.readUInt32LE(s + 12);
      const rawSize = buf.readUInt32LE(s + 16), rawPointer = buf.readUInt32LE(s + 20);
      if (rva >= virtualAddress && rva < virtualAddress + Math.max(virtualSize, rawSize)) return rva - virtualAddress + rawPointer;
    }
    throw new Error(`RVA 0x${rva.toString(16)} is in no section`);
  };
  const cString = (offset: number) => buf.toString('latin1', offset, buf.indexOf(0, offset));
  // directory 1: IMAGE_IMPORT_DESCRIPTOR (20 bytes, Name at +12); 13: delay-load descriptor (32 bytes, DllNameRVA at +4)
  const names = (directory: number, size: number, nameAt: number): string[] => {
    const rva = buf.readUInt32LE(dataDirectories + directory * 8);
    const out: string[] = [];
    if (rva === 0) return out;
    for (let o = offsetOf(rva); ; o += size) {
      const name = buf.readUInt32LE(o + nameAt);
      if (name === 0) return out;
      out.push(cString(offsetOf(name)));
    }
  };
  return { imports: names(1, 20, 12), delayed: names(13, 32, 4) };
}
