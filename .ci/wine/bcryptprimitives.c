/* Wine 8.0 (Debian 12) has no bcryptprimitives.dll, where Rust's standard library (1.78 and
 * later) takes its randomness from: `ProcessPrng`. Windows 10 and later have it. This stand-in
 * is built by .ci/windows.sh with mingw-w64 and put in the Wine prefix only, never shipped:
 * it answers ProcessPrng with RtlGenRandom (advapi32's SystemFunction036), which Wine has. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
