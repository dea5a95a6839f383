//! What the loader knows about the objects mapped in this process: the main
//! executable's build id and address range, and whether an address is code.

use std::ffi::c_void;

/// The main executable, as reported in `hello`.
#[derive(Debug, Clone, Default)]
pub struct MainImage {
    /// The GNU build-id note; empty if the executable was linked without one.
    pub build_id: Vec<u8>,
    pub exe_path: String,
    /// What was added to every link-time address (ASLR for a PIE).
    pub load_bias: u64,
    /// Lowest and highest mapped address of its PT_LOAD segments, page-rounded.
    pub image_start: u64,
    pub image_end: u64,
}

const NT_GNU_BUILD_ID: u32 = 3;

pub fn describe_main_image() -> MainImage {
    let mut image = MainImage {
        exe_path: std::fs::read_link("/proc/self/exe")
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default(),
        ..MainImage::default()
    };
    for_each_object(|object| {
        // glibc lists the main program first; one entry is all we need.
        describe_object(object, &mut image);
        false
    });
    image
}

/// The object's PT_LOAD range and build-id note.
fn describe_object(object: &libc::dl_phdr_info, image: &mut MainImage) {
    let page = page_size();
    let mut start = u64::MAX;
    let mut end = 0u64;
    image.load_bias = object.dlpi_addr;
    for phdr in program_headers(object) {
        let address = object.dlpi_addr.wrapping_add(phdr.p_vaddr);
        match phdr.p_type {
            libc::PT_LOAD => {
                start = start.min(address & !(page - 1));
                end = end.max((address + phdr.p_memsz).next_multiple_of(page));
            }
            libc::PT_NOTE if image.build_id.is_empty() => {
                // SAFETY: a PT_NOTE segment lies inside a PT_LOAD segment
                // that the loader mapped readable, and stays mapped for as
                // long as the main program (the whole process lifetime).
                let notes = unsafe {
                    std::slice::from_raw_parts(address as *const u8, phdr.p_memsz as usize)
                };
                if let Some(id) = find_build_id(notes, phdr.p_align) {
                    image.build_id = id.to_vec();
                }
            }
            _ => {}
        }
    }
    if start <= end {
        image.image_start = start;
        image.image_end = end;
    }
}

/// Walks a note segment: each note is `namesz, descsz, type` (u32 each),
/// then the name and the descriptor, each padded to the segment alignment.
pub fn find_build_id(notes: &[u8], segment_align: u64) -> Option<&[u8]> {
    let align = if segment_align == 8 { 8 } else { 4 };
    let read_u32 = |at: usize| -> Option<u32> {
        Some(u32::from_ne_bytes(notes.get(at..at + 4)?.try_into().ok()?))
    };
    let mut offset = 0usize;
    while offset + 12 <= notes.len() {
        let name_size = read_u32(offset)? as usize;
        let desc_size = read_u32(offset + 4)? as usize;
        let note_type = read_u32(offset + 8)?;
        let name_start = offset + 12;
        let desc_start = name_start.checked_add(name_size)?.next_multiple_of(align);
        let desc_end = desc_start.checked_add(desc_size)?;
        let name = notes.get(name_start..name_start + name_size)?;
        let desc = notes.get(desc_start..desc_end)?;
        if note_type == NT_GNU_BUILD_ID && name == b"GNU\0" {
            return Some(desc);
        }
        offset = desc_end.next_multiple_of(align);
    }
    None
}

/// The memory protection of the loaded segment that holds all of
/// `[address, address + len)`, if it is an executable segment of some loaded
/// object (the program, a library, an earlier patch). Redirects are only
/// ever written there: a wrong address from the CLI must become an error,
/// not a write into the app's data.
pub fn code_segment_protection(address: u64, len: u64) -> Option<libc::c_int> {
    let mut found = None;
    for_each_object(|object| {
        for phdr in program_headers(object) {
            if phdr.p_type != libc::PT_LOAD || phdr.p_flags & PF_X == 0 {
                continue;
            }
            let start = object.dlpi_addr.wrapping_add(phdr.p_vaddr);
            let end = start.saturating_add(phdr.p_memsz);
            if address >= start && address.saturating_add(len) <= end {
                let mut prot = libc::PROT_EXEC;
                if phdr.p_flags & PF_R != 0 {
                    prot |= libc::PROT_READ;
                }
                if phdr.p_flags & PF_W != 0 {
                    prot |= libc::PROT_WRITE;
                }
                found = Some(prot);
                return false;
            }
        }
        true
    });
    found
}

/// Whether `[address, address + len)` lies in a readable loaded segment of
/// some object, so that the agent may read a structure there.
pub fn is_readable(address: u64, len: u64) -> bool {
    let mut found = false;
    for_each_object(|object| {
        for phdr in program_headers(object) {
            if phdr.p_type != libc::PT_LOAD || phdr.p_flags & PF_R == 0 {
                continue;
            }
            let start = object.dlpi_addr.wrapping_add(phdr.p_vaddr);
            let end = start.saturating_add(phdr.p_memsz);
            if address >= start && address.saturating_add(len) <= end {
                found = true;
                return false;
            }
        }
        true
    });
    found
}

pub fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 {
        size as u64
    } else {
        4096
    }
}

/// Segment permission flags (`p_flags`), from the ELF specification: the
/// `libc` crate does not define them for Android.
pub(crate) const PF_X: u32 = 1;
pub(crate) const PF_W: u32 = 2;
pub(crate) const PF_R: u32 = 4;

/// The loaded object the loader knows by `name` (the path it was opened by).
pub(crate) fn find_object<T>(
    name: &str,
    mut read: impl FnMut(&libc::dl_phdr_info) -> T,
) -> Option<T> {
    let mut found = None;
    for_each_object(|object| {
        // SAFETY: dlpi_name is NULL or a NUL-terminated string owned by the loader.
        let named = !object.dlpi_name.is_null()
            && unsafe { std::ffi::CStr::from_ptr(object.dlpi_name) }.to_bytes() == name.as_bytes();
        if named {
            found = Some(read(object));
        }
        !named
    });
    found
}

pub(crate) fn program_headers(object: &libc::dl_phdr_info) -> &[libc::Elf64_Phdr] {
    if object.dlpi_phdr.is_null() {
        return &[];
    }
    // SAFETY: the loader hands out `dlpi_phnum` program headers at
    // `dlpi_phdr`, valid for the duration of the dl_iterate_phdr callback,
    // which is the lifetime of `object` here.
    unsafe { std::slice::from_raw_parts(object.dlpi_phdr, object.dlpi_phnum as usize) }
}

/// Calls `visit` for each loaded object until it returns false.
pub(crate) fn for_each_object(mut visit: impl FnMut(&libc::dl_phdr_info) -> bool) {
    type Visitor<'a> = &'a mut dyn FnMut(&libc::dl_phdr_info) -> bool;

    unsafe extern "C" fn callback(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        data: *mut c_void,
    ) -> libc::c_int {
        // SAFETY: `data` is the `&mut Visitor` passed below, alive for the
        // whole dl_iterate_phdr call; `info` is valid during the callback.
        // The visitors do plain reads only and cannot panic across this
        // extern "C" boundary.
        let visit = unsafe { &mut *(data as *mut Visitor<'_>) };
        match unsafe { info.as_ref() } {
            Some(info) if !visit(info) => 1,
            _ => 0,
        }
    }

    let mut visitor: Visitor<'_> = &mut visit;
    // SAFETY: the callback matches dl_iterate_phdr's signature, and `data`
    // points to `visitor`, which outlives the call.
    unsafe {
        libc::dl_iterate_phdr(
            Some(callback),
            (&mut visitor as *mut Visitor<'_>).cast::<c_void>(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(name: &[u8], note_type: u32, desc: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(name.len() as u32).to_ne_bytes());
        out.extend_from_slice(&(desc.len() as u32).to_ne_bytes());
        out.extend_from_slice(&note_type.to_ne_bytes());
        out.extend_from_slice(name);
        out.resize(out.len().next_multiple_of(4), 0);
        out.extend_from_slice(desc);
        out.resize(out.len().next_multiple_of(4), 0);
        out
    }

    #[test]
    fn finds_the_gnu_build_id_after_other_notes() {
        let mut notes = note(b"GNU\0", 1, &[0; 16]); // NT_GNU_ABI_TAG
        notes.extend(note(b"GNU\0", NT_GNU_BUILD_ID, &[0xab; 20]));
        assert_eq!(find_build_id(&notes, 4), Some(&[0xab; 20][..]));
    }

    #[test]
    fn truncated_notes_are_not_read_past_their_end() {
        let notes = note(b"GNU\0", NT_GNU_BUILD_ID, &[0xab; 20]);
        for cut in 0..notes.len() - 1 {
            assert_eq!(find_build_id(&notes[..cut], 4), None, "cut at {cut}");
        }
    }

    #[test]
    fn the_test_binary_is_described() {
        let image = describe_main_image();
        assert!(image.image_start < image.image_end);
        assert!(!image.exe_path.is_empty());
        let here = describe_main_image as *const () as usize as u64;
        // The test harness links this crate statically into the executable.
        assert!(here >= image.image_start && here < image.image_end);
        assert!(code_segment_protection(here, 5).is_some());
        let on_stack = 0u64;
        assert!(code_segment_protection(&on_stack as *const u64 as u64, 5).is_none());
    }
}
