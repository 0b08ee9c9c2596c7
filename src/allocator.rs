//! Allocator settings for long conversions.
//!
//! glibc's malloc returns freed memory to the kernel eagerly (its mmap threshold adapts
//! upwards, and the tops of its heaps are trimmed), so the multi-megabyte buffers a conversion
//! allocates per chunk and per page are faulted in again and again: on a 1 GB input that was
//! ~124,000 page faults for ~210 MB of peak memory. On virtual machines first touches are
//! costly. Keeping freed memory for reuse halves the faults without raising the peak (see
//! BENCHMARKS.md).

/// Keeps freed memory in the process for reuse. Call once, before any thread starts.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes malloc's parameters; it is called before other threads run.
    unsafe {
        // Allocations below 64 MiB come from the heaps (none of ours is larger), and heaps
        // are trimmed only when 1 GiB is free at their top.
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}
