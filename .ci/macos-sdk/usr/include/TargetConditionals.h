/* Stand-in for the Apple SDK header of that name: .ci/portability.sh `cargo check`s skiff for
 * aarch64-apple-darwin, whose build scripts compile a little C (wasmtime's helpers.c, ring);
 * `cargo check` links nothing, so these declarations only need to compile. */
#pragma once
#define TARGET_OS_MAC 1
#define TARGET_OS_OSX 1
#define TARGET_OS_IPHONE 0
#define TARGET_OS_IOS 0
#define TARGET_OS_TV 0
#define TARGET_OS_WATCH 0
#define TARGET_OS_SIMULATOR 0
