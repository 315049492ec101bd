/**
 * The demo's runnable program: a static Linux executable that prints one line
 * and exits 0, made here byte by byte (an ELF header, one loadable segment,
 * a few instructions: write(1, msg, len), exit(0)) for amd64 and arm64. The
 * demo needs no base image, no compiler and no network, and its digests are
 * the same on every machine.
 */

/** Architectures the program is made for (the image index's platforms). */
export type Arch = "amd64" | "arm64";

const BASE = 0x400000;
const HEADERS = 64 + 56; // ELF header + one program header

/** The machine code: write(1, msg, len); exit(0); then msg. */
function code(arch: Arch, msgLen: number): Buffer {
  if (arch === "amd64") {
    const b = Buffer.from([
      0xb8,
      0x01,
      0x00,
      0x00,
      0x00, // mov eax, 1 (write)
      0xbf,
      0x01,
      0x00,
      0x00,
      0x00, // mov edi, 1 (stdout)
      0x48,
      0x8d,
      0x35,
      0x10,
      0x00,
      0x00,
      0x00, // lea rsi, [rip + 16] (msg, after the 16 bytes below)
      0xba,
      0x00,
      0x00,
      0x00,
      0x00, // mov edx, len
      0x0f,
      0x05, // syscall
      0xb8,
      0x3c,
      0x00,
      0x00,
      0x00, // mov eax, 60 (exit)
      0x31,
      0xff, // xor edi, edi
      0x0f,
      0x05, // syscall
    ]);
    b.writeUInt32LE(msgLen, 18);
    return b;
  }
  if (msgLen > 0xffff) throw new Error("message too long");
  const words = [
    0xd2800020, // mov x0, #1 (stdout)
    0x100000e1, // adr x1, msg (28 bytes ahead: after the 7 instructions that follow)
    0xd2800002 | (msgLen << 5), // mov x2, #len
    0xd2800808, // mov x8, #64 (write)
    0xd4000001, // svc #0
    0xd2800000, // mov x0, #0
    0xd2800ba8, // mov x8, #93 (exit)
    0xd4000001, // svc #0
  ];
  const b = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => b.writeUInt32LE(w >>> 0, i * 4));
  return b;
}

/** A static executable for `arch` that prints `message` (a line) on stdout. */
export function helloExecutable(arch: Arch, message: string): Buffer {
  const msg = Buffer.from(message);
  const text = Buffer.concat([code(arch, msg.length), msg]);
  const size = HEADERS + text.length;
  const h = Buffer.alloc(HEADERS);
  // e_ident: magic, 64-bit, little-endian, version 1, System V ABI.
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]).copy(h, 0);
  h.writeUInt16LE(2, 16); // e_type: executable
  h.writeUInt16LE(arch === "amd64" ? 0x3e : 0xb7, 18); // e_machine: x86-64 / AArch64
  h.writeUInt32LE(1, 20); // e_version
  h.writeBigUInt64LE(BigInt(BASE + HEADERS), 24); // e_entry: the code, right after the headers
  h.writeBigUInt64LE(64n, 32); // e_phoff
  h.writeBigUInt64LE(0n, 40); // e_shoff: no sections
  h.writeUInt32LE(0, 48); // e_flags
  h.writeUInt16LE(64, 52); // e_ehsize
  h.writeUInt16LE(56, 54); // e_phentsize
  h.writeUInt16LE(1, 56); // e_phnum
  // e_shentsize, e_shnum, e_shstrndx: 0
  // The one segment: the whole file, loaded read + execute at BASE.
  h.writeUInt32LE(1, 64); // p_type: PT_LOAD
  h.writeUInt32LE(5, 68); // p_flags: R + X
  h.writeBigUInt64LE(0n, 72); // p_offset
  h.writeBigUInt64LE(BigInt(BASE), 80); // p_vaddr
  h.writeBigUInt64LE(BigInt(BASE), 88); // p_paddr
  h.writeBigUInt64LE(BigInt(size), 96); // p_filesz
  h.writeBigUInt64LE(BigInt(size), 104); // p_memsz
  h.writeBigUInt64LE(0x1000n, 112); // p_align
  return Buffer.concat([h, text]);
}
