//! Process facts the harness needs from the OS: pinning to a CPU (and undoing it), the CPU time a
//! process has used, its resident set size, and how much CPU the rest of the machine used
//! meanwhile. Linux only (sched_setaffinity, sched_getaffinity, getrusage, /proc/self/statm,
//! /proc/stat).

use std::io;
use std::time::Duration;

/// Pin the calling thread (and every thread it creates afterwards) to `cpu`.
/// Pinning happens before any runtime starts, so worker threads inherit the mask.
///
/// # Errors
/// Fails when the CPU does not exist or the kernel refuses the mask.
pub(crate) fn pin_to_cpu(cpu: usize) -> io::Result<()> {
    // SAFETY: cpu_set_t is a plain bit array for which all-zero is a valid (empty) value.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: CPU_SET writes one bit of `set`, which we own; `cpu` is bounds-checked by the
    // libc crate's implementation (it indexes a fixed-size array and panics when out of range).
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: pid 0 means the calling thread; the pointer and size describe `set`, which
    // lives for the whole call.
    let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Undo any pinning: allow the calling thread (and every thread it creates afterwards)
/// on every online CPU, whatever mask this process inherited. Returns how many CPUs
/// the thread may now run on. The multi-thread workloads call this before building
/// their runtimes, so the workers can run in parallel.
///
/// # Errors
/// Fails when the kernel refuses the mask or cannot report it back.
pub(crate) fn unpin() -> io::Result<usize> {
    let online = online_cpus().min(libc::CPU_SETSIZE as usize);
    // SAFETY: cpu_set_t is a plain bit array for which all-zero is a valid (empty) value.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for cpu in 0..online {
        // SAFETY: CPU_SET writes one bit of `set`, which we own; `cpu` < CPU_SETSIZE (clamped above).
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    // SAFETY: pid 0 means the calling thread; the pointer and size describe `set`, which
    // lives for the whole call.
    let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    allowed_cpus()
}

/// How many CPUs the calling thread may run on (its affinity mask, read back).
///
/// # Errors
/// Fails when the kernel cannot report the mask.
pub(crate) fn allowed_cpus() -> io::Result<usize> {
    // SAFETY: cpu_set_t is a plain bit array for which all-zero is a valid (empty) value.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: pid 0 means the calling thread; the pointer and size describe `set`, which
    // is writable and lives for the whole call.
    let rc =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: CPU_COUNT only reads `set`, a valid mask the kernel just filled in.
    let count = unsafe { libc::CPU_COUNT(&set) };
    Ok(usize::try_from(count).unwrap_or(0))
}

/// CPUs online on the machine, whatever this process's affinity mask says (at least 1).
pub(crate) fn online_cpus() -> usize {
    // SAFETY: sysconf has no preconditions; _SC_NPROCESSORS_ONLN is always supported on Linux.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(online).unwrap_or(1).max(1)
}

/// User + system CPU time used so far by every thread of this process.
///
/// # Errors
/// Fails only if getrusage does (it cannot with RUSAGE_SELF and a valid pointer).
pub(crate) fn cpu_time() -> io::Result<Duration> {
    // SAFETY: rusage is plain old data; all-zero is a valid value that getrusage overwrites.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF is a valid `who`, and `usage` is a valid, writable rusage.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Ok(Duration::from_micros(
        micros(usage.ru_utime) + micros(usage.ru_stime),
    ))
}

/// CPU time used by this process and by its children it has waited for.
///
/// # Errors
/// Fails only if getrusage does.
fn own_and_children_cpu() -> io::Result<Duration> {
    let mut total = cpu_time()?;
    // SAFETY: rusage is plain old data; all-zero is a valid value that getrusage overwrites.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_CHILDREN is a valid `who`, and `usage` is a valid, writable rusage.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    total += Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime));
    Ok(total)
}

/// CPU time every CPU of the machine spent busy (user, nice, system, irq, softirq, steal:
/// the first line of /proc/stat), in clock ticks turned into time.
///
/// # Errors
/// Fails when /proc is not mounted or its format is unexpected.
fn machine_busy() -> io::Result<Duration> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "unexpected /proc/stat");
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .filter(|l| l.starts_with("cpu "))
        .ok_or_else(bad)?
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().map_err(|_| bad()))
        .collect::<io::Result<_>>()?;
    if fields.len() < 8 {
        return Err(bad());
    }
    // user nice system idle iowait irq softirq steal: all but idle and iowait.
    let ticks = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7];
    // SAFETY: sysconf has no preconditions; _SC_CLK_TCK is always supported on Linux.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = u64::try_from(hz).ok().filter(|&h| h > 0).unwrap_or(100);
    Ok(Duration::from_secs_f64(ticks as f64 / hz as f64))
}

/// A reading of the machine's busy time and the benchmark's own share of it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CpuSample {
    at: std::time::Instant,
    busy: Duration,
    ours: Duration,
}

impl CpuSample {
    /// Read both now. Call it only when no child is running: a child's CPU time counts
    /// as ours only once it has been waited for.
    ///
    /// # Errors
    /// Fails when /proc/stat or getrusage cannot be read.
    pub(crate) fn now() -> io::Result<CpuSample> {
        Ok(CpuSample {
            at: std::time::Instant::now(),
            busy: machine_busy()?,
            ours: own_and_children_cpu()?,
        })
    }

    /// Seconds from `earlier` to `self`.
    pub(crate) fn secs_since(&self, earlier: &CpuSample) -> f64 {
        self.at.duration_since(earlier.at).as_secs_f64()
    }

    /// The share of all CPUs that other processes used between `self` and `later`
    /// (0 = the benchmark had the machine to itself; 1 = every CPU was busy with
    /// something else). Clock-tick resolution (10 ms), so meaningful over seconds.
    pub(crate) fn others_share(&self, later: &CpuSample) -> f64 {
        let wall = later.at.duration_since(self.at).as_secs_f64() * online_cpus() as f64;
        let busy = later.busy.saturating_sub(self.busy).as_secs_f64();
        let ours = later.ours.saturating_sub(self.ours).as_secs_f64();
        if wall <= 0.0 {
            return 0.0;
        }
        ((busy - ours) / wall).clamp(0.0, 1.0)
    }
}

/// An exclusive lock on a file, held until dropped (or the process exits): one
/// benchmark run per machine at a time.
#[derive(Debug)]
pub(crate) struct RunLock {
    _file: std::fs::File,
}

impl RunLock {
    /// Lock `path` (created if missing), calling `waiting` first if another process
    /// holds it, then blocking until it is free.
    ///
    /// # Errors
    /// Fails when the file cannot be opened or the kernel refuses the lock.
    pub(crate) fn acquire(path: &std::path::Path, waiting: impl FnOnce()) -> io::Result<RunLock> {
        use std::os::fd::AsRawFd;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        let fd = file.as_raw_fd();
        // SAFETY: `fd` is the open descriptor of `file`, which outlives the call.
        if unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::WouldBlock {
                return Err(e);
            }
            waiting();
            loop {
                // SAFETY: as above.
                if unsafe { libc::flock(fd, libc::LOCK_EX) } == 0 {
                    break;
                }
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
        Ok(RunLock { _file: file })
    }
}

/// Resident set size of this process in bytes (second field of /proc/self/statm).
///
/// # Errors
/// Fails when /proc is not mounted or its format is unexpected.
pub(crate) fn rss_bytes() -> io::Result<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm")?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unexpected /proc/self/statm"))?;
    // SAFETY: sysconf has no preconditions; _SC_PAGESIZE is always supported on Linux.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Ok(pages * u64::try_from(page).unwrap_or(4096))
}

/// Number of CPUs online, for the report (at least 1).
pub(crate) fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn a_second_run_waits_for_the_first() -> io::Result<()> {
        let path =
            std::env::temp_dir().join(format!("ember-bench-test-{}.lock", std::process::id()));
        let first = RunLock::acquire(&path, || panic!("the lock is free"))?;
        let (waiting_tx, waiting_rx) = mpsc::channel();
        let (locked_tx, locked_rx) = mpsc::channel();
        let second_path = path.clone();
        let second = std::thread::spawn(move || {
            let lock = RunLock::acquire(&second_path, || {
                let _ = waiting_tx.send(());
            });
            let _ = locked_tx.send(lock.is_ok());
        });
        // Bounded waits: a broken lock fails the test instead of hanging it.
        waiting_rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| io::Error::other("the second run did not see the lock held"))?;
        assert!(locked_rx.try_recv().is_err(), "the second run did not wait");
        drop(first);
        let locked = locked_rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| io::Error::other("the second run never got the lock"))?;
        assert!(locked);
        second
            .join()
            .map_err(|_| io::Error::other("second run panicked"))?;
        std::fs::remove_file(&path)
    }
}
