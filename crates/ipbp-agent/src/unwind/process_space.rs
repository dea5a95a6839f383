//! What the stop handler's walks may read: a snapshot of this process's
//! address space, taken by the stopping thread before each stop (taking it
//! allocates, reads `/proc/self/maps` and takes the loader's lock, none of
//! which a handler may do), and read without locks by the handlers.
//!
//! - Segments: every readable `PT_LOAD` segment of every loaded object (the
//!   program, libraries, the vDSO, patches), with its object's
//!   `.eh_frame_hdr`. Unwind tables are read only inside them.
//! - Mappings: the readable mappings of `/proc/self/maps`, minus the kernel
//!   pages whose reading can fault (`[vvar]`) and device files. A frame's
//!   stack slots are read only inside the mapping holding its stack
//!   pointer, so a wrong rule reads a wrong value, never unmapped memory.
//!
//! An object loaded or a stack created after the snapshot is not in it:
//! frames there end the walk as unknown. Memory unmapped after it could
//! still be read by a walk following garbage; only a thread unloading a
//! library at the very moment of the stop could cause that.
//!
//! The snapshot is replaced only when no handler is reading it: handlers
//! count themselves in `READERS` and read only while `READY` is set; the
//! stopper clears `READY` and waits for `READERS` to drain before writing.

use super::{AddressSpace, Region};
use crate::image::{for_each_object, program_headers};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const MAX_MAPPINGS: usize = 16_384;
const MAX_SEGMENTS: usize = 4_096;
/// How long a refresh waits for walks of an earlier stop to finish reading.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

struct Mapping {
    start: AtomicU64,
    end: AtomicU64,
}

struct Segment {
    start: AtomicU64,
    end: AtomicU64,
    /// Of the segment's object; 0 when it has none.
    eh_frame_hdr: AtomicU64,
    executable: AtomicBool,
}

static MAPPINGS: [Mapping; MAX_MAPPINGS] = [const {
    Mapping {
        start: AtomicU64::new(0),
        end: AtomicU64::new(0),
    }
}; MAX_MAPPINGS];
static MAPPING_COUNT: AtomicUsize = AtomicUsize::new(0);
static SEGMENTS: [Segment; MAX_SEGMENTS] = [const {
    Segment {
        start: AtomicU64::new(0),
        end: AtomicU64::new(0),
        eh_frame_hdr: AtomicU64::new(0),
        executable: AtomicBool::new(false),
    }
}; MAX_SEGMENTS];
static SEGMENT_COUNT: AtomicUsize = AtomicUsize::new(0);
static READY: AtomicBool = AtomicBool::new(false);
static READERS: AtomicU32 = AtomicU32::new(0);

/// Takes a new snapshot. Callers serialize refreshes with stops (the
/// stopper lock). Returns false if walks from an earlier stop still read the
/// old snapshot after [`DRAIN_TIMEOUT`]: then none is published, and the
/// next stop reports every stack as unknown.
pub fn refresh() -> bool {
    let mappings = readable_mappings();
    let segments = loaded_segments();
    READY.store(false, Ordering::SeqCst);
    let started = Instant::now();
    while READERS.load(Ordering::SeqCst) != 0 {
        if started.elapsed() > DRAIN_TIMEOUT {
            return false;
        }
        std::thread::sleep(Duration::from_micros(50));
    }
    for (slot, &(start, end)) in MAPPINGS.iter().zip(&mappings) {
        slot.start.store(start, Ordering::Relaxed);
        slot.end.store(end, Ordering::Relaxed);
    }
    MAPPING_COUNT.store(mappings.len().min(MAX_MAPPINGS), Ordering::Relaxed);
    for (slot, segment) in SEGMENTS.iter().zip(&segments) {
        slot.start.store(segment.start, Ordering::Relaxed);
        slot.end.store(segment.end, Ordering::Relaxed);
        slot.eh_frame_hdr
            .store(segment.eh_frame_hdr, Ordering::Relaxed);
        slot.executable.store(segment.executable, Ordering::Relaxed);
    }
    SEGMENT_COUNT.store(segments.len().min(MAX_SEGMENTS), Ordering::Relaxed);
    READY.store(true, Ordering::SeqCst);
    true
}

/// Runs `walk` over the snapshot, or returns `None` if there is none (or it
/// is being replaced). Async-signal-safe.
pub fn with_snapshot<R>(walk: impl FnOnce(&ProcessSpace) -> R) -> Option<R> {
    READERS.fetch_add(1, Ordering::SeqCst);
    // SeqCst on both sides: either this load sees READY cleared, or the
    // refresh's drain sees this reader.
    let result = READY
        .load(Ordering::SeqCst)
        .then(|| walk(&ProcessSpace(())));
    READERS.fetch_sub(1, Ordering::SeqCst);
    result
}

/// The snapshot, as the walker reads it.
pub struct ProcessSpace(());

impl AddressSpace for ProcessSpace {
    fn eh_frame_hdr(&self, pc: u64) -> Option<u64> {
        let segment = segment_holding(pc)?;
        let header = segment.eh_frame_hdr.load(Ordering::Relaxed);
        (segment.executable.load(Ordering::Relaxed) && header != 0).then_some(header)
    }

    fn object_bytes(&self, address: u64, len: u64) -> Option<&[u8]> {
        let segment = segment_holding(address)?;
        let end = address.checked_add(len)?;
        if end > segment.end.load(Ordering::Relaxed) {
            return None;
        }
        // SAFETY: the range lies inside a readable PT_LOAD segment of an
        // object that was loaded when the snapshot was taken, just before
        // this stop; objects are not unloaded while the app's threads are
        // being stopped (see the module comment for the one exception).
        // Unwind tables are never written.
        Some(unsafe {
            std::slice::from_raw_parts(address as *const u8, usize::try_from(len).ok()?)
        })
    }

    fn stack_region(&self, address: u64) -> Option<Region> {
        let count = MAPPING_COUNT.load(Ordering::Relaxed);
        let mappings = MAPPINGS.get(..count)?;
        let after = mappings.partition_point(|m| m.start.load(Ordering::Relaxed) <= address);
        let mapping = mappings.get(after.checked_sub(1)?)?;
        let region = Region {
            start: mapping.start.load(Ordering::Relaxed),
            end: mapping.end.load(Ordering::Relaxed),
        };
        region.holds(address, 1).then_some(region)
    }

    fn read_stack(&self, region: Region, address: u64, size: u64) -> Option<u64> {
        if size > 8 || !region.holds(address, size) {
            return None;
        }
        let mut bytes = [0u8; 8];
        // SAFETY: `region` is a readable mapping of the snapshot holding
        // `size` bytes at `address`; `bytes` has room for them.
        unsafe {
            std::ptr::copy_nonoverlapping(
                address as *const u8,
                bytes.as_mut_ptr(),
                usize::try_from(size).ok()?,
            );
        }
        Some(u64::from_le_bytes(bytes))
    }
}

fn segment_holding(address: u64) -> Option<&'static Segment> {
    let count = SEGMENT_COUNT.load(Ordering::Relaxed);
    let segments = SEGMENTS.get(..count)?;
    let after = segments.partition_point(|s| s.start.load(Ordering::Relaxed) <= address);
    let segment = segments.get(after.checked_sub(1)?)?;
    (address < segment.end.load(Ordering::Relaxed)).then_some(segment)
}

/// `[start, end)` of each readable mapping a stack may live in, sorted.
fn readable_mappings() -> Vec<(u64, u64)> {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return Vec::new();
    };
    let mut mappings: Vec<(u64, u64)> = maps.lines().filter_map(parse_mapping).collect();
    mappings.sort_unstable();
    mappings
}

/// One line of `/proc/self/maps`: `start-end perms offset dev inode [path]`.
fn parse_mapping(line: &str) -> Option<(u64, u64)> {
    let mut fields = line.split_whitespace();
    let (start, end) = fields.next()?.split_once('-')?;
    let readable = fields.next()?.starts_with('r');
    let path = fields.nth(3).unwrap_or("");
    // [vvar] pages can fault when read; device memory may have effects.
    let avoided = path.starts_with("[vvar") || path == "[vsyscall]" || path.starts_with("/dev/");
    if !readable || avoided {
        return None;
    }
    Some((
        u64::from_str_radix(start, 16).ok()?,
        u64::from_str_radix(end, 16).ok()?,
    ))
}

struct LoadedSegment {
    start: u64,
    end: u64,
    eh_frame_hdr: u64,
    executable: bool,
}

/// The readable PT_LOAD segments of every loaded object, sorted.
fn loaded_segments() -> Vec<LoadedSegment> {
    let mut segments = Vec::new();
    for_each_object(|object| {
        let headers = program_headers(object);
        let eh_frame_hdr = headers
            .iter()
            .find(|phdr| phdr.p_type == libc::PT_GNU_EH_FRAME)
            .map_or(0, |phdr| object.dlpi_addr.wrapping_add(phdr.p_vaddr));
        for phdr in headers {
            if phdr.p_type == libc::PT_LOAD && phdr.p_flags & crate::image::PF_R != 0 {
                let start = object.dlpi_addr.wrapping_add(phdr.p_vaddr);
                segments.push(LoadedSegment {
                    start,
                    end: start.saturating_add(phdr.p_memsz),
                    eh_frame_hdr,
                    executable: phdr.p_flags & crate::image::PF_X != 0,
                });
            }
        }
        true
    });
    segments.sort_unstable_by_key(|segment| segment.start);
    segments
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    use super::*;

    #[test]
    fn maps_lines_are_parsed_and_risky_ones_left_out() {
        let line =
            "7ffd3c9e4000-7ffd3ca05000 rw-p 00000000 00:00 0                          [stack]";
        assert_eq!(
            parse_mapping(line),
            Some((0x7ffd_3c9e_4000, 0x7ffd_3ca0_5000))
        );
        let anonymous = "7f0000000000-7f0000021000 rw-p 00000000 00:00 0";
        assert_eq!(
            parse_mapping(anonymous),
            Some((0x7f00_0000_0000, 0x7f00_0002_1000))
        );
        for skipped in [
            "7ffd3cbd0000-7ffd3cbd4000 r--p 00000000 00:00 0                          [vvar]",
            "7f0000000000-7f0000001000 ---p 00000000 00:00 0",
            "7f0000000000-7f0000001000 rw-s 00000000 00:05 12                         /dev/dri/card0",
            "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]",
        ] {
            assert_eq!(parse_mapping(skipped), None, "{skipped}");
        }
    }
}
