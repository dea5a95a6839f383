//! One step of the walk, from DWARF call frame information as `.eh_frame`
//! holds it: find the FDE for an address (the `.eh_frame_hdr` binary search
//! table), run its CIE's and its own CFA program up to the address, and
//! compute the caller's registers from the resulting row.
//!
//! Only what `.eh_frame` uses is supported; anything else (a 64-bit entry,
//! an unknown opcode or pointer encoding, a table that is not sorted) ends
//! the walk as unknown rather than guessing.

use super::{preserved, AddressSpace, Region, Registers};
use crate::arch::{PROGRAM_COUNTER_REGISTER, STACK_POINTER_REGISTER, UNWIND_REGISTERS};

/// How deep `DW_CFA_remember_state` may nest (compilers use one or two).
const MAX_SAVED_STATES: usize = 4;
/// Bounds on one DWARF expression (branches could loop).
const MAX_EXPRESSION_STEPS: usize = 256;
const EXPRESSION_STACK: usize = 16;
/// A CIE or FDE longer than this is taken as garbage.
const MAX_ENTRY_LEN: u32 = 1 << 24;

/// The `.eh_frame_hdr` table encoding every linker writes: 4-byte signed
/// offsets from the start of the header.
const TABLE_ENCODING: u8 = DW_EH_PE_DATAREL | DW_EH_PE_SDATA4;

const DW_EH_PE_OMIT: u8 = 0xff;
const DW_EH_PE_ABSPTR: u8 = 0x00;
const DW_EH_PE_ULEB128: u8 = 0x01;
const DW_EH_PE_UDATA2: u8 = 0x02;
const DW_EH_PE_UDATA4: u8 = 0x03;
const DW_EH_PE_UDATA8: u8 = 0x04;
const DW_EH_PE_SLEB128: u8 = 0x09;
const DW_EH_PE_SDATA2: u8 = 0x0a;
const DW_EH_PE_SDATA4: u8 = 0x0b;
const DW_EH_PE_SDATA8: u8 = 0x0c;
const DW_EH_PE_PCREL: u8 = 0x10;
const DW_EH_PE_DATAREL: u8 = 0x30;

/// What unwinding one frame found.
// The walk runs in a signal handler and allocates nothing: no Box for the
// registers, however many an architecture has.
#[allow(clippy::large_enum_variant)]
pub enum Caller {
    /// The frame is the outermost one: its return address is undefined.
    Outermost,
    /// The caller's registers (its pc in the program counter register).
    /// `signal_frame`: the frame unwound was a signal trampoline, so the
    /// caller's pc is where a signal interrupted it, not a return address.
    /// `leaf`: the return address was still in the link register, so the
    /// frame may have left the stack pointer where its caller had it.
    Frame {
        registers: Registers,
        signal_frame: bool,
        leaf: bool,
    },
}

/// Unwinds the frame of `registers`, whose code address is `site` (the pc,
/// or a return address minus one). `None`: it cannot be unwound.
pub fn unwind_frame(registers: &Registers, site: u64, space: &impl AddressSpace) -> Option<Caller> {
    let header = space.eh_frame_hdr(site)?;
    let fde = Fde::parse(space, search_table(space, header, site)?, header)?;
    if site < fde.pc_begin || site.wrapping_sub(fde.pc_begin) >= fde.pc_range {
        return None; // the nearest FDE ends before `site`: no unwind info for it
    }
    let row = fde.row_at(site)?;
    let memory = Stack {
        space,
        region: space.stack_region(registers.get(STACK_POINTER_REGISTER)?)?,
    };
    let cfa = match row.cfa {
        Cfa::RegisterOffset { register, offset } => {
            registers.get(register)?.wrapping_add_signed(offset)
        }
        Cfa::Expression(ops) => evaluate(ops, registers, None, &memory)?,
        Cfa::Unset => return None,
    };
    let return_address_rule = row.rule(fde.cie.return_address_register)?;
    if matches!(return_address_rule, Rule::Undefined) {
        return Some(Caller::Outermost);
    }
    let recover = |number: usize, rule: Rule<'_>| -> Option<u64> {
        match rule {
            Rule::Unspecified if number == STACK_POINTER_REGISTER => Some(cfa),
            Rule::Unspecified if preserved(number) => registers.get(number),
            Rule::Unspecified | Rule::Undefined => None,
            Rule::SameValue => registers.get(number),
            Rule::Offset(offset) => memory.read(cfa.wrapping_add_signed(offset), 8),
            Rule::ValOffset(offset) => Some(cfa.wrapping_add_signed(offset)),
            Rule::Register(other) => registers.get(other),
            Rule::Expression(ops) => memory.read(evaluate(ops, registers, Some(cfa), &memory)?, 8),
            Rule::ValExpression(ops) => evaluate(ops, registers, Some(cfa), &memory),
        }
    };
    let mut caller = Registers::none();
    for (number, &rule) in row.rules.iter().enumerate() {
        // A register that cannot be recovered is unknown in the caller; the
        // walk fails later only if something needs it.
        if let Some(value) = recover(number, rule) {
            caller.set(number, value);
        }
    }
    // With a link register (aarch64's x30) a leaf function keeps its
    // return address there, and its rules say nothing of it: as libgcc, the
    // register then still holds it.
    let leaf = matches!(return_address_rule, Rule::Unspecified);
    let return_address = if leaf {
        registers.get(fde.cie.return_address_register)
    } else {
        recover(fde.cie.return_address_register, return_address_rule)
    }?;
    caller.set(PROGRAM_COUNTER_REGISTER, return_address);
    Some(Caller::Frame {
        registers: caller,
        signal_frame: fde.cie.signal_frame,
        leaf,
    })
}

/// Reads from the stack the frame runs on, and nowhere else.
struct Stack<'s, S> {
    space: &'s S,
    region: Region,
}

impl<S: AddressSpace> Stack<'_, S> {
    fn read(&self, address: u64, size: u64) -> Option<u64> {
        self.space.read_stack(self.region, address, size)
    }
}

/// The FDE whose range starts closest below `site`, from the binary search
/// table of the `.eh_frame_hdr` at `header`.
fn search_table(space: &impl AddressSpace, header: u64, site: u64) -> Option<u64> {
    let [version, frame_pointer_encoding, count_encoding, table_encoding] =
        *space.object_bytes(header, 4)?.first_chunk::<4>()?;
    if version != 1 || table_encoding != TABLE_ENCODING || count_encoding == DW_EH_PE_OMIT {
        return None;
    }
    let pointer_size = if frame_pointer_encoding == DW_EH_PE_OMIT {
        0
    } else {
        fixed_size(frame_pointer_encoding)?
    };
    let count_address = header.checked_add(4)?.checked_add(pointer_size)?;
    let count_size = fixed_size(count_encoding)?;
    let count = Cursor::new(
        space.object_bytes(count_address, count_size)?,
        count_address,
    )
    .value(count_encoding)?;
    let table_address = count_address.checked_add(count_size)?;
    let table = space.object_bytes(table_address, count.checked_mul(8)?)?;
    let entry = |index: u64| -> Option<(u64, u64)> {
        let at = usize::try_from(index.checked_mul(8)?).ok()?;
        let bytes = table.get(at..at.checked_add(8)?)?;
        let (start, fde) = bytes.split_at_checked(4)?;
        let start = i32::from_le_bytes(start.try_into().ok()?);
        let fde = i32::from_le_bytes(fde.try_into().ok()?);
        Some((
            header.wrapping_add_signed(i64::from(start)),
            header.wrapping_add_signed(i64::from(fde)),
        ))
    };
    // The last entry whose start is at or below `site`.
    let (mut low, mut high) = (0u64, count);
    while low < high {
        let middle = low.checked_add(high.checked_sub(low)? >> 1)?;
        if entry(middle)?.0 <= site {
            low = middle.checked_add(1)?;
        } else {
            high = middle;
        }
    }
    Some(entry(low.checked_sub(1)?)?.1)
}

/// The size of a fixed-size pointer encoding.
fn fixed_size(encoding: u8) -> Option<u64> {
    match encoding & 0x0f {
        DW_EH_PE_ABSPTR | DW_EH_PE_UDATA8 | DW_EH_PE_SDATA8 => Some(8),
        DW_EH_PE_UDATA4 | DW_EH_PE_SDATA4 => Some(4),
        DW_EH_PE_UDATA2 | DW_EH_PE_SDATA2 => Some(2),
        _ => None,
    }
}

/// The body of the CIE or FDE at `address` (after its length field) and
/// where that body starts.
fn entry(space: &impl AddressSpace, address: u64) -> Option<(&[u8], u64)> {
    let length = u32::from_le_bytes(space.object_bytes(address, 4)?.try_into().ok()?);
    // 0 ends the section; 0xffffffff announces 64-bit DWARF, which no
    // toolchain writes into .eh_frame.
    if length == 0 || length > MAX_ENTRY_LEN {
        return None;
    }
    let body = address.checked_add(4)?;
    Some((space.object_bytes(body, u64::from(length))?, body))
}

#[derive(Clone, Copy)]
struct Cie<'a> {
    code_alignment: u64,
    data_alignment: i64,
    return_address_register: usize,
    fde_encoding: u8,
    has_augmentation_data: bool,
    signal_frame: bool,
    instructions: &'a [u8],
    instructions_address: u64,
}

impl<'a> Cie<'a> {
    fn parse(space: &'a impl AddressSpace, address: u64) -> Option<Cie<'a>> {
        let (body, body_address) = entry(space, address)?;
        let mut input = Cursor::new(body, body_address);
        if input.u32()? != 0 {
            return None; // an FDE, not a CIE
        }
        let version = input.u8()?;
        if version != 1 && version != 3 {
            return None;
        }
        let augmentation = input.c_string()?;
        let code_alignment = input.uleb()?;
        let data_alignment = input.sleb()?;
        let return_address_register = if version == 1 {
            u64::from(input.u8()?)
        } else {
            input.uleb()?
        };
        let mut cie = Cie {
            code_alignment,
            data_alignment,
            return_address_register: usize::try_from(return_address_register).ok()?,
            fde_encoding: DW_EH_PE_ABSPTR,
            has_augmentation_data: false,
            signal_frame: false,
            instructions: &[],
            instructions_address: 0,
        };
        match augmentation.split_first() {
            None => {}
            Some((b'z', letters)) => {
                cie.has_augmentation_data = true;
                let length = usize::try_from(input.uleb()?).ok()?;
                let data_address = input.address();
                let mut data = Cursor::new(input.take(length)?, data_address);
                for &letter in letters {
                    match letter {
                        b'P' => {
                            let encoding = data.u8()?;
                            data.value(encoding)?; // the personality routine: not needed
                        }
                        b'L' => {
                            data.u8()?; // the LSDA encoding: not needed
                        }
                        b'R' => cie.fde_encoding = data.u8()?,
                        b'S' => cie.signal_frame = true,
                        b'B' | b'G' => {} // flags without data (aarch64 BTI, MTE)
                        _ => break,       // the rest is skipped by its length
                    }
                }
            }
            // Augmentation data whose length is not given cannot be skipped.
            Some(_) => return None,
        }
        cie.instructions_address = input.address();
        cie.instructions = input.rest();
        Some(cie)
    }
}

struct Fde<'a> {
    cie: Cie<'a>,
    pc_begin: u64,
    pc_range: u64,
    instructions: &'a [u8],
    instructions_address: u64,
}

impl<'a> Fde<'a> {
    fn parse(space: &'a impl AddressSpace, address: u64, header: u64) -> Option<Fde<'a>> {
        let (body, body_address) = entry(space, address)?;
        let mut input = Cursor::new(body, body_address);
        let cie_pointer = input.u32()?;
        if cie_pointer == 0 {
            return None; // a CIE, not an FDE
        }
        let cie = Cie::parse(space, body_address.checked_sub(u64::from(cie_pointer))?)?;
        let pc_begin = input.pointer(cie.fde_encoding, header)?;
        let pc_range = input.value(cie.fde_encoding & 0x0f)?;
        if cie.has_augmentation_data {
            let length = usize::try_from(input.uleb()?).ok()?;
            input.take(length)?;
        }
        Some(Fde {
            cie,
            pc_begin,
            pc_range,
            instructions_address: input.address(),
            instructions: input.rest(),
        })
    }

    /// The unwind row in effect at `site`.
    fn row_at(&self, site: u64) -> Option<Row<'a>> {
        let mut state = Program {
            row: Row::EMPTY,
            initial: Row::EMPTY,
            saved: [Row::EMPTY; MAX_SAVED_STATES],
            saved_count: 0,
            location: self.pc_begin,
            cie: &self.cie,
        };
        state.run(self.cie.instructions, self.cie.instructions_address, site)?;
        state.initial = state.row;
        state.run(self.instructions, self.instructions_address, site)?;
        Some(state.row)
    }
}

#[derive(Clone, Copy)]
enum Rule<'a> {
    Unspecified,
    Undefined,
    SameValue,
    /// Saved at CFA + offset.
    Offset(i64),
    /// Is CFA + offset.
    ValOffset(i64),
    Register(usize),
    /// Saved at the address the expression computes (the CFA pushed first).
    Expression(&'a [u8]),
    /// Is the value the expression computes (the CFA pushed first).
    ValExpression(&'a [u8]),
}

#[derive(Clone, Copy)]
enum Cfa<'a> {
    Unset,
    RegisterOffset { register: usize, offset: i64 },
    Expression(&'a [u8]),
}

#[derive(Clone, Copy)]
struct Row<'a> {
    cfa: Cfa<'a>,
    rules: [Rule<'a>; UNWIND_REGISTERS],
}

impl<'a> Row<'a> {
    const EMPTY: Row<'static> = Row {
        cfa: Cfa::Unset,
        rules: [Rule::Unspecified; UNWIND_REGISTERS],
    };

    fn rule(&self, register: usize) -> Option<Rule<'a>> {
        self.rules.get(register).copied()
    }

    /// Rules for registers the walker does not track (vector registers)
    /// are dropped: nothing it computes depends on them.
    fn set(&mut self, register: u64, rule: Rule<'a>) {
        if let Some(slot) = usize::try_from(register)
            .ok()
            .and_then(|r| self.rules.get_mut(r))
        {
            *slot = rule;
        }
    }
}

/// Executing a CFA program (the CIE's initial instructions, then the FDE's).
struct Program<'a, 'c> {
    row: Row<'a>,
    /// The row after the CIE's instructions, for `DW_CFA_restore`.
    initial: Row<'a>,
    saved: [Row<'a>; MAX_SAVED_STATES],
    saved_count: usize,
    location: u64,
    cie: &'c Cie<'a>,
}

impl<'a> Program<'a, '_> {
    /// Runs `program` until the location passes `site`. `None`: a malformed
    /// or unsupported instruction.
    fn run(&mut self, program: &'a [u8], address: u64, site: u64) -> Option<()> {
        let mut input = Cursor::new(program, address);
        while let Some(opcode) = input.u8() {
            let operand = u64::from(opcode & 0x3f);
            let advance = match opcode & 0xc0 {
                0x40 => Some(operand),
                0x80 => {
                    let offset = self.factored(input.uleb()?);
                    self.row.set(operand, Rule::Offset(offset));
                    None
                }
                0xc0 => {
                    self.restore(operand);
                    None
                }
                _ => self.extended(opcode, &mut input)?,
            };
            if let Some(delta) = advance {
                let next = delta
                    .checked_mul(self.cie.code_alignment)
                    .and_then(|bytes| self.location.checked_add(bytes));
                match next {
                    Some(next) if next <= site => self.location = next,
                    _ => return Some(()), // the rows from here on start past `site`
                }
            }
            if self.location > site {
                return Some(()); // after a DW_CFA_set_loc past `site`
            }
        }
        Some(())
    }

    /// The opcodes without an operand in their low bits. Returns the
    /// location advance, if the opcode is one.
    fn extended(&mut self, opcode: u8, input: &mut Cursor<'a>) -> Option<Option<u64>> {
        match opcode {
            0x00 => {} // DW_CFA_nop
            0x01 => {
                // DW_CFA_set_loc
                self.location = input.pointer(self.cie.fde_encoding, 0)?;
            }
            0x02 => return Some(Some(u64::from(input.u8()?))), // DW_CFA_advance_loc1
            0x03 => return Some(Some(u64::from(input.u16()?))), // DW_CFA_advance_loc2
            0x04 => return Some(Some(u64::from(input.u32()?))), // DW_CFA_advance_loc4
            0x05 => {
                // DW_CFA_offset_extended
                let register = input.uleb()?;
                let offset = self.factored(input.uleb()?);
                self.row.set(register, Rule::Offset(offset));
            }
            0x06 => self.restore(input.uleb()?), // DW_CFA_restore_extended
            0x07 => self.row.set(input.uleb()?, Rule::Undefined),
            0x08 => self.row.set(input.uleb()?, Rule::SameValue),
            0x09 => {
                // DW_CFA_register
                let register = input.uleb()?;
                let source = usize::try_from(input.uleb()?).ok()?;
                self.row.set(register, Rule::Register(source));
            }
            0x0a => {
                // DW_CFA_remember_state: the CFA is saved with the rules.
                *self.saved.get_mut(self.saved_count)? = self.row;
                self.saved_count = self.saved_count.checked_add(1)?;
            }
            0x0b => {
                // DW_CFA_restore_state
                self.saved_count = self.saved_count.checked_sub(1)?;
                self.row = *self.saved.get(self.saved_count)?;
            }
            0x0c => {
                // DW_CFA_def_cfa
                let register = usize::try_from(input.uleb()?).ok()?;
                let offset = i64::try_from(input.uleb()?).ok()?;
                self.row.cfa = Cfa::RegisterOffset { register, offset };
            }
            0x0d => {
                // DW_CFA_def_cfa_register
                let new_register = usize::try_from(input.uleb()?).ok()?;
                let Cfa::RegisterOffset { offset, .. } = self.row.cfa else {
                    return None;
                };
                self.row.cfa = Cfa::RegisterOffset {
                    register: new_register,
                    offset,
                };
            }
            0x0e => {
                // DW_CFA_def_cfa_offset
                let new_offset = i64::try_from(input.uleb()?).ok()?;
                self.set_cfa_offset(new_offset)?;
            }
            0x0f => {
                // DW_CFA_def_cfa_expression
                let length = usize::try_from(input.uleb()?).ok()?;
                self.row.cfa = Cfa::Expression(input.take(length)?);
            }
            0x10 | 0x16 => {
                // DW_CFA_expression, DW_CFA_val_expression
                let register = input.uleb()?;
                let length = usize::try_from(input.uleb()?).ok()?;
                let ops = input.take(length)?;
                let rule = if opcode == 0x10 {
                    Rule::Expression(ops)
                } else {
                    Rule::ValExpression(ops)
                };
                self.row.set(register, rule);
            }
            0x11 => {
                // DW_CFA_offset_extended_sf
                let register = input.uleb()?;
                let offset = self.factored_signed(input.sleb()?);
                self.row.set(register, Rule::Offset(offset));
            }
            0x12 => {
                // DW_CFA_def_cfa_sf
                let register = usize::try_from(input.uleb()?).ok()?;
                let offset = self.factored_signed(input.sleb()?);
                self.row.cfa = Cfa::RegisterOffset { register, offset };
            }
            0x13 => {
                // DW_CFA_def_cfa_offset_sf
                let new_offset = self.factored_signed(input.sleb()?);
                self.set_cfa_offset(new_offset)?;
            }
            0x14 => {
                // DW_CFA_val_offset
                let register = input.uleb()?;
                let offset = self.factored(input.uleb()?);
                self.row.set(register, Rule::ValOffset(offset));
            }
            0x15 => {
                // DW_CFA_val_offset_sf
                let register = input.uleb()?;
                let offset = self.factored_signed(input.sleb()?);
                self.row.set(register, Rule::ValOffset(offset));
            }
            0x2e => {
                input.uleb()?; // DW_CFA_GNU_args_size: only for landing pads
            }
            0x2f => {
                // DW_CFA_GNU_negative_offset_extended
                let register = input.uleb()?;
                let offset = self.factored(input.uleb()?).wrapping_neg();
                self.row.set(register, Rule::Offset(offset));
            }
            _ => return None,
        }
        Some(None)
    }

    fn factored(&self, offset: u64) -> i64 {
        (offset as i64).wrapping_mul(self.cie.data_alignment)
    }

    fn factored_signed(&self, offset: i64) -> i64 {
        offset.wrapping_mul(self.cie.data_alignment)
    }

    fn set_cfa_offset(&mut self, new_offset: i64) -> Option<()> {
        let Cfa::RegisterOffset { register, .. } = self.row.cfa else {
            return None;
        };
        self.row.cfa = Cfa::RegisterOffset {
            register,
            offset: new_offset,
        };
        Some(())
    }

    fn restore(&mut self, register: u64) {
        if let Some(rule) = usize::try_from(register)
            .ok()
            .and_then(|r| self.initial.rule(r))
        {
            self.row.set(register, rule);
        }
    }
}

/// Evaluates a DWARF expression (the operations unwind tables use) to a
/// value; `pushed` starts the stack (the CFA, for register rules). Memory
/// is read from the frame's stack only.
fn evaluate<S: AddressSpace>(
    ops: &[u8],
    registers: &Registers,
    pushed: Option<u64>,
    memory: &Stack<'_, S>,
) -> Option<u64> {
    let mut stack = Values {
        items: [0; EXPRESSION_STACK],
        len: 0,
    };
    if let Some(value) = pushed {
        stack.push(value)?;
    }
    let mut input = Cursor::new(ops, 0);
    for _ in 0..MAX_EXPRESSION_STEPS {
        let Some(op) = input.u8() else {
            return stack.pop();
        };
        let value = match op {
            0x03 => input.u64()?,                            // DW_OP_addr
            0x08 => u64::from(input.u8()?),                  // const1u
            0x09 => input.u8()? as i8 as u64,                // const1s
            0x0a => u64::from(input.u16()?),                 // const2u
            0x0b => input.u16()? as i16 as u64,              // const2s
            0x0c => u64::from(input.u32()?),                 // const4u
            0x0d => input.u32()? as i32 as u64,              // const4s
            0x0e | 0x0f => input.u64()?,                     // const8u, const8s
            0x10 => input.uleb()?,                           // constu
            0x11 => input.sleb()? as u64,                    // consts
            0x30..=0x4f => u64::from(op.wrapping_sub(0x30)), // lit0..lit31
            0x70..=0x8f => {
                register_plus(registers, usize::from(op.wrapping_sub(0x70)), &mut input)?
            } // breg0..breg31
            0x92 => {
                let register = usize::try_from(input.uleb()?).ok()?; // bregx
                register_plus(registers, register, &mut input)?
            }
            0x06 => memory.read(stack.pop()?, 8)?, // deref
            0x94 => {
                let size = input.u8()?; // deref_size
                if !(1..=8).contains(&size) {
                    return None;
                }
                memory.read(stack.pop()?, u64::from(size))?
            }
            0x12 => stack.peek(0)?, // dup
            0x13 => {
                stack.pop()?; // drop
                continue;
            }
            0x14 => stack.peek(1)?,                        // over
            0x15 => stack.peek(usize::from(input.u8()?))?, // pick
            0x16 => {
                let (top, second) = (stack.pop()?, stack.pop()?); // swap
                stack.push(top)?;
                second
            }
            0x17 => {
                let (top, second, third) = (stack.pop()?, stack.pop()?, stack.pop()?); // rot
                stack.push(top)?;
                stack.push(third)?;
                second
            }
            0x19 => (stack.pop()? as i64).wrapping_abs() as u64, // abs
            0x1f => stack.pop()?.wrapping_neg(),                 // neg
            0x20 => !stack.pop()?,                               // not
            0x23 => stack.pop()?.wrapping_add(input.uleb()?),    // plus_uconst
            0x1a..=0x1e | 0x21 | 0x22 | 0x24..=0x27 | 0x29..=0x2e => {
                let right = stack.pop()?;
                let left = stack.pop()?;
                binary(op, left, right)?
            }
            0x28 => {
                // DW_OP_bra
                let offset = input.u16()? as i16;
                if stack.pop()? != 0 {
                    input.jump(offset)?;
                }
                continue;
            }
            0x2f => {
                let offset = input.u16()? as i16; // DW_OP_skip
                input.jump(offset)?;
                continue;
            }
            0x96 => continue, // DW_OP_nop
            _ => return None,
        };
        stack.push(value)?;
    }
    None
}

fn register_plus(registers: &Registers, register: usize, input: &mut Cursor<'_>) -> Option<u64> {
    let offset = input.sleb()?;
    Some(registers.get(register)?.wrapping_add_signed(offset))
}

fn binary(op: u8, left: u64, right: u64) -> Option<u64> {
    let (signed_left, signed_right) = (left as i64, right as i64);
    let shift = u32::try_from(right).unwrap_or(u32::MAX);
    Some(match op {
        0x1a => left & right,
        0x1b => signed_left.checked_div(signed_right)? as u64, // div (signed)
        0x1c => left.wrapping_sub(right),
        0x1d => left.checked_rem(right)?, // mod
        0x1e => left.wrapping_mul(right),
        0x21 => left | right,
        0x22 => left.wrapping_add(right),
        0x24 => left.checked_shl(shift).unwrap_or(0),
        0x25 => left.checked_shr(shift).unwrap_or(0),
        0x26 => signed_left
            .checked_shr(shift)
            .unwrap_or(if signed_left < 0 { -1 } else { 0 }) as u64,
        0x27 => left ^ right,
        0x29 => u64::from(signed_left == signed_right),
        0x2a => u64::from(signed_left >= signed_right),
        0x2b => u64::from(signed_left > signed_right),
        0x2c => u64::from(signed_left <= signed_right),
        0x2d => u64::from(signed_left < signed_right),
        0x2e => u64::from(signed_left != signed_right),
        _ => return None,
    })
}

/// The expression stack: fixed size, no allocation.
struct Values {
    items: [u64; EXPRESSION_STACK],
    len: usize,
}

impl Values {
    fn push(&mut self, value: u64) -> Option<()> {
        *self.items.get_mut(self.len)? = value;
        self.len = self.len.checked_add(1)?;
        Some(())
    }

    fn pop(&mut self) -> Option<u64> {
        self.len = self.len.checked_sub(1)?;
        self.items.get(self.len).copied()
    }

    /// The value `depth` entries below the top.
    fn peek(&self, depth: usize) -> Option<u64> {
        let index = self.len.checked_sub(1)?.checked_sub(depth)?;
        self.items.get(index).copied()
    }
}

/// A bounds-checked reader over unwind table bytes that lie at `address`.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
    address: u64,
}

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8], address: u64) -> Self {
        Cursor {
            bytes,
            at: 0,
            address,
        }
    }

    /// The address of the next byte.
    fn address(&self) -> u64 {
        self.address.wrapping_add(self.at as u64)
    }

    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(len)?;
        let taken = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(taken)
    }

    fn rest(&mut self) -> &'a [u8] {
        let rest = self.bytes.get(self.at..).unwrap_or_default();
        self.at = self.bytes.len();
        rest
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn u8(&mut self) -> Option<u8> {
        Some(u8::from_le_bytes(self.array()?))
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.array()?))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.array()?))
    }

    fn c_string(&mut self) -> Option<&'a [u8]> {
        let rest = self.bytes.get(self.at..)?;
        let len = rest.iter().position(|&b| b == 0)?;
        let text = self.take(len)?;
        self.take(1)?;
        Some(text)
    }

    fn uleb(&mut self) -> Option<u64> {
        let mut value = 0u64;
        let mut shift = 0u32;
        loop {
            let byte = self.u8()?;
            value |= u64::from(byte & 0x7f).checked_shl(shift).unwrap_or(0);
            shift = shift.checked_add(7)?;
            if byte & 0x80 == 0 {
                return Some(value);
            }
            if shift > 63 + 7 {
                return None;
            }
        }
    }

    fn sleb(&mut self) -> Option<i64> {
        let mut value = 0u64;
        let mut shift = 0u32;
        loop {
            let byte = self.u8()?;
            value |= u64::from(byte & 0x7f).checked_shl(shift).unwrap_or(0);
            shift = shift.checked_add(7)?;
            if byte & 0x80 == 0 {
                if byte & 0x40 != 0 {
                    value |= u64::MAX.checked_shl(shift).unwrap_or(0);
                }
                return Some(value as i64);
            }
            if shift > 63 + 7 {
                return None;
            }
        }
    }

    /// A value in the format (low nibble) of a pointer encoding.
    fn value(&mut self, encoding: u8) -> Option<u64> {
        Some(match encoding & 0x0f {
            DW_EH_PE_ABSPTR | DW_EH_PE_UDATA8 | DW_EH_PE_SDATA8 => self.u64()?,
            DW_EH_PE_ULEB128 => self.uleb()?,
            DW_EH_PE_UDATA2 => u64::from(self.u16()?),
            DW_EH_PE_UDATA4 => u64::from(self.u32()?),
            DW_EH_PE_SLEB128 => self.sleb()? as u64,
            DW_EH_PE_SDATA2 => self.u16()? as i16 as u64,
            DW_EH_PE_SDATA4 => self.u32()? as i32 as u64,
            _ => return None,
        })
    }

    /// An encoded pointer: absolute, relative to its own address, or
    /// relative to `data_base` (the `.eh_frame_hdr`). Indirect pointers and
    /// the other bases are not used for code addresses in `.eh_frame`.
    fn pointer(&mut self, encoding: u8, data_base: u64) -> Option<u64> {
        let field = self.address();
        let value = self.value(encoding)?;
        match encoding & 0xf0 {
            0x00 => Some(value),
            DW_EH_PE_PCREL => Some(field.wrapping_add(value)),
            DW_EH_PE_DATAREL => Some(data_base.wrapping_add(value)),
            _ => None,
        }
    }

    /// Moves by `offset` bytes, staying within the bytes (DWARF branches).
    fn jump(&mut self, offset: i16) -> Option<()> {
        let target = i64::try_from(self.at)
            .ok()?
            .checked_add(i64::from(offset))?;
        let target = usize::try_from(target).ok()?;
        if target > self.bytes.len() {
            return None;
        }
        self.at = target;
        Some(())
    }
}

// Its one user is a test of x86_64 tables.
#[cfg(all(test, target_arch = "x86_64"))]
pub(super) mod test_support {
    //! The expression evaluator, reachable from the module's tests.
    use super::*;

    pub fn evaluate_with<S: AddressSpace>(
        ops: &[u8],
        registers: &Registers,
        pushed: Option<u64>,
        space: &S,
        region: Region,
    ) -> Option<u64> {
        evaluate(ops, registers, pushed, &Stack { space, region })
    }
}
