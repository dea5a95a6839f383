import type { ByteReader } from '../byte-reader.js';
import { MACH_HEADER_64_SIZE, type MachHeader } from './header.js';

export const LC_SYMTAB = 0x2;
export const LC_SEGMENT_64 = 0x19;
/** The 32-bit segment command: meaningless in a 64-bit file, so refused. */
const LC_SEGMENT = 0x1;

/** `sizeof(struct load_command)`: every command starts with cmd and cmdsize. */
const LOAD_COMMAND_SIZE = 8;

export interface LoadCommand {
  readonly command: number;
  /** File offset of the command's first byte (its `cmd` field). */
  readonly offset: number;
  readonly size: number;
}

/**
 * Walks the load commands. The area they claim (`sizeofcmds`) must lie in
 * the file, and `ncmds` must fit in it at 8 bytes each, before anything is
 * allocated per command; each command must stay inside that area.
 */
export function readLoadCommands(reader: ByteReader, header: MachHeader): LoadCommand[] {
  const start = MACH_HEADER_64_SIZE;
  reader.check('load commands', start, header.commandsSize);
  if (header.commandCount * LOAD_COMMAND_SIZE > header.commandsSize) {
    reader.fail('mach_header_64', 16, `${header.commandCount} load commands cannot fit in ${header.commandsSize} bytes`);
  }
  const end = start + header.commandsSize;

  const commands: LoadCommand[] = [];
  let offset = start;
  for (let i = 0; i < header.commandCount; i++) {
    if (offset + LOAD_COMMAND_SIZE > end) reader.fail('load_command', offset, 'runs past sizeofcmds');
    const command = reader.u32('load_command', offset);
    const size = reader.u32('load_command', offset + 4);
    if (size < LOAD_COMMAND_SIZE) reader.fail('load_command', offset, `cmdsize ${size} is smaller than a load command`);
    if (offset + size > end) reader.fail('load_command', offset, `cmdsize ${size} runs past sizeofcmds`);
    if (command === LC_SEGMENT) reader.fail('load_command', offset, 'LC_SEGMENT (32-bit) in a 64-bit object');
    commands.push({ command, offset, size });
    offset += size;
  }
  return commands;
}
