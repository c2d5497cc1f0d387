//! Windows: processes by handle. A PID is opened with the least access each call needs and
//! the handle closed at once.

use std::sync::{Arc, Mutex};
use windows_sys::Win32::Foundation::{CloseHandle, GetLastError, ERROR_ACCESS_DENIED, FILETIME, HANDLE, STILL_ACTIVE};
use windows_sys::Win32::System::Threading::{
    GetExitCodeProcess, GetProcessTimes, OpenProcess, TerminateProcess, PROCESS_QUERY_LIMITED_INFORMATION,
    PROCESS_SUSPEND_RESUME, PROCESS_TERMINATE,
};

// The process-wide suspend and resume (what SIGSTOP and SIGCONT do): ntdll's, the one call
// that freezes every thread of another process at once (Sysinternals' and Process Explorer's
// "Suspend" use it; Wine implements it too).
windows_link::link!("ntdll.dll" "system" fn NtSuspendProcess(process: HANDLE) -> i32);
windows_link::link!("ntdll.dll" "system" fn NtResumeProcess(process: HANDLE) -> i32);

/// An open process handle, closed when dropped.
struct Process(HANDLE);

impl Process {
    fn open(pid: u32, access: u32) -> Option<Process> {
        // SAFETY: OpenProcess has no preconditions; a null handle is failure.
        let h = unsafe { OpenProcess(access, 0, pid) };
        (!h.is_null()).then_some(Process(h))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // SAFETY: a handle we opened and still own.
        unsafe { CloseHandle(self.0) };
    }
}

pub fn alive(pid: u32) -> bool {
    let Some(p) = Process::open(pid, PROCESS_QUERY_LIMITED_INFORMATION) else {
        // It exists but is not ours to look at (another user's): alive.
        // SAFETY: reads this thread's last error.
        return unsafe { GetLastError() } == ERROR_ACCESS_DENIED;
    };
    let mut code = 0u32;
    // SAFETY: a valid handle and out pointer.
    let ok = unsafe { GetExitCodeProcess(p.0, &mut code) } != 0;
    ok && code == STILL_ACTIVE as u32
}

pub fn terminate(pid: u32, status: u32) {
    if let Some(p) = Process::open(pid, PROCESS_TERMINATE) {
        // SAFETY: a valid handle with PROCESS_TERMINATE access.
        unsafe { TerminateProcess(p.0, status) };
    }
}

/// Freeze (`true`) or thaw every thread of `pid`.
pub fn suspend(pid: u32, freeze: bool) {
    if let Some(p) = Process::open(pid, PROCESS_SUSPEND_RESUME) {
        // SAFETY: a valid handle with PROCESS_SUSPEND_RESUME access.
        unsafe {
            if freeze {
                NtSuspendProcess(p.0);
            } else {
                NtResumeProcess(p.0);
            }
        }
    }
}

fn times(pid: u32) -> Option<[u64; 4]> {
    let p = Process::open(pid, PROCESS_QUERY_LIMITED_INFORMATION)?;
    let mut t = [FILETIME { dwLowDateTime: 0, dwHighDateTime: 0 }; 4];
    let [a, b, c, d] = &mut t;
    // SAFETY: a valid handle and four valid out pointers.
    if unsafe { GetProcessTimes(p.0, a, b, c, d) } == 0 {
        return None;
    }
    Some(t.map(|f| (u64::from(f.dwHighDateTime) << 32) | u64::from(f.dwLowDateTime)))
}

/// Creation time (100 ns units since 1601).
pub fn start_time(pid: u32) -> Option<u64> {
    times(pid).map(|t| t[0])
}

pub fn usage(pid: u32) -> (u64, u64) {
    use windows_sys::Win32::System::ProcessStatus::{K32GetProcessMemoryInfo, PROCESS_MEMORY_COUNTERS};
    let cpu_ms = times(pid).map(|t| (t[2] + t[3]) / 10_000).unwrap_or(0);
    let mem = Process::open(pid, PROCESS_QUERY_LIMITED_INFORMATION)
        .and_then(|p| {
            // SAFETY: zeroed plain-data struct, its size passed with it.
            let mut c: PROCESS_MEMORY_COUNTERS = unsafe { std::mem::zeroed() };
            let size = std::mem::size_of::<PROCESS_MEMORY_COUNTERS>() as u32;
            c.cb = size;
            (unsafe { K32GetProcessMemoryInfo(p.0, &mut c, size) } != 0).then_some(c.WorkingSetSize as u64)
        })
        .unwrap_or(0);
    (mem, cpu_ms)
}

pub fn host_memory() -> u64 {
    use windows_sys::Win32::System::SystemInformation::{GlobalMemoryStatusEx, MEMORYSTATUSEX};
    // SAFETY: zeroed plain-data struct with its length set, as the call requires.
    let mut m: MEMORYSTATUSEX = unsafe { std::mem::zeroed() };
    m.dwLength = std::mem::size_of::<MEMORYSTATUSEX>() as u32;
    if unsafe { GlobalMemoryStatusEx(&mut m) } == 0 {
        return 0;
    }
    m.ullTotalPhys
}

/// Point the standard output handle at `NUL`.
pub fn detach_stdout() {
    use std::os::windows::io::IntoRawHandle;
    use windows_sys::Win32::System::Console::{SetStdHandle, STD_OUTPUT_HANDLE};
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("NUL") {
        // SAFETY: the handle is valid and, once given to SetStdHandle, owned by the process.
        unsafe { SetStdHandle(STD_OUTPUT_HANDLE, null.into_raw_handle() as HANDLE) };
    }
}

/// Make this process's own standard handles not inheritable. A child is given the handles
/// its `Command` names (std duplicates those for it), but Windows also hands it every
/// inheritable handle of its parent: a detached supervisor would keep the pipe of `run -d`'s
/// output open, and whoever reads that output (a script's `$(skiff run -d …)`) would wait
/// for the container to end.
pub fn keep_std_handles() {
    use windows_sys::Win32::Foundation::{SetHandleInformation, HANDLE_FLAG_INHERIT};
    use windows_sys::Win32::System::Console::{GetStdHandle, STD_ERROR_HANDLE, STD_INPUT_HANDLE, STD_OUTPUT_HANDLE};
    for which in [STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE] {
        // SAFETY: GetStdHandle has no preconditions; a null or invalid handle just fails.
        unsafe {
            let h = GetStdHandle(which);
            if !h.is_null() && h != windows_sys::Win32::Foundation::INVALID_HANDLE_VALUE {
                SetHandleInformation(h, HANDLE_FLAG_INHERIT, 0);
            }
        }
    }
}

type Handler = Arc<dyn Fn(i32) + Send + Sync>;
static CONSOLE: Mutex<Option<Handler>> = Mutex::new(None);

/// Ctrl-C (INT), Ctrl-Break (QUIT) and the console closing (HUP) go to `handler`.
pub fn on_console_signal(handler: Handler) {
    use windows_sys::Win32::System::Console::{
        SetConsoleCtrlHandler, CTRL_BREAK_EVENT, CTRL_CLOSE_EVENT, CTRL_C_EVENT,
    };
    unsafe extern "system" fn route(kind: u32) -> windows_sys::core::BOOL {
        let sig = match kind {
            CTRL_C_EVENT => super::sig::INT,
            CTRL_BREAK_EVENT => super::sig::QUIT,
            CTRL_CLOSE_EVENT => super::sig::HUP,
            _ => return 0,
        };
        let h = CONSOLE.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match h {
            Some(h) => {
                h(sig);
                1
            }
            None => 0,
        }
    }
    let first = CONSOLE.lock().unwrap_or_else(|p| p.into_inner()).replace(handler).is_none();
    if first {
        // SAFETY: registers a plain function with the console; it stays valid for the process.
        unsafe { SetConsoleCtrlHandler(Some(route), 1) };
    }
}
