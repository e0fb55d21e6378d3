/*
 * gVisor release 20221219 answers statx(..., AT_NO_AUTOMOUNT, ...) with EINVAL, which breaks
 * bookworm's coreutils (`ls /` prints "Invalid argument"). There are no automounts inside a sandbox,
 * so dropping the flag changes nothing else. Loaded through /etc/ld.so.preload in the kernel image.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>

int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf) {
  static int (*real)(int, const char *, int, unsigned int, struct statx *);
  if (!real) real = (int (*)(int, const char *, int, unsigned int, struct statx *))dlsym(RTLD_NEXT, "statx");
  return real(dirfd, path, flags & ~AT_NO_AUTOMOUNT, mask, buf);
}
