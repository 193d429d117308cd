/*
 * releaseFilePages() -> number: unmaps the clean pages of read-only file mappings (the node
 * binary's code and read-only data, shared libraries, native addons) from this process, and
 * returns how many bytes of resident set that was.
 *
 * Why: Node's start-up reads some 40 MiB of its own 95 MiB executable (V8's start-up snapshot,
 * the dynamic symbol tables every native addon is linked against, initialisation code, ICU
 * data). Those pages stay mapped, so they count in the process's RSS for good although most are
 * never touched again; a Go registry's binary is a fifth of that. Unmapping them is what the
 * kernel does to such pages under memory pressure anyway: they stay in the page cache (shared
 * with every other process running the binary), and a page that is used again comes back with
 * a minor fault, no disk read. What is hot comes back within the first requests; what is not
 * stops counting. src/http/idle-trim.ts calls this when the server goes quiet.
 *
 * Safety: MADV_DONTNEED on a private file mapping drops the process's own copies of pages too,
 * which for a page that was ever written (relocations in a RELRO segment, a debugger's
 * breakpoint) would silently revert it to the file's contents. So only mappings that are not
 * writable and hold no anonymous (copied-on-write) page at all, according to the kernel's own
 * /proc/self/smaps, are released; device, I/O and locked mappings are left alone. The JavaScript
 * thread is the only one that maps files (module and addon loading), and it is the one running
 * this, so nothing becomes writable between the check and the madvise.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include "exports.h"
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef struct {
  unsigned long start, end;
  int candidate; /* read-only, private, backed by a regular file */
  unsigned long rss_kb, anon_kb;
} mapping_t;

static void begin_mapping(mapping_t *m, const char *line) {
  char perms[5] = {0};
  unsigned long offset = 0, inode = 0;
  unsigned int major = 0, minor = 0;
  int path_at = 0;
  memset(m, 0, sizeof(*m));
  if (sscanf(line, "%lx-%lx %4s %lx %x:%x %lu %n", &m->start, &m->end, perms, &offset, &major, &minor, &inode, &path_at) < 7) return;
  const char *path = path_at > 0 ? line + path_at : "";
  m->candidate = perms[0] == 'r' && perms[1] != 'w' && perms[3] == 'p' && inode != 0 && path[0] == '/' && strncmp(path, "/dev/", 5) != 0;
}

/* Called on the mapping's last line, VmFlags: lo = locked, io = VM_IO, pf = PFN map. */
static unsigned long release_if_clean(const mapping_t *m, const char *vmflags) {
  if (!m->candidate || m->rss_kb == 0 || m->anon_kb != 0) return 0;
  if (strstr(vmflags, " lo") || strstr(vmflags, " io") || strstr(vmflags, " pf")) return 0;
  if (madvise((void *)m->start, m->end - m->start, MADV_DONTNEED) != 0) return 0;
  return m->rss_kb * 1024;
}

static napi_value js_release_file_pages(napi_env env, napi_callback_info info) {
  (void)info;
  double released = 0;
  FILE *smaps = fopen("/proc/self/smaps", "re");
  if (smaps) {
    char line[4096];
    mapping_t m = {0};
    unsigned long kb = 0;
    while (fgets(line, sizeof line, smaps)) {
      if (sscanf(line, "Rss: %lu kB", &kb) == 1) m.rss_kb = kb;
      else if (sscanf(line, "Anonymous: %lu kB", &kb) == 1) m.anon_kb = kb;
      else if (strncmp(line, "VmFlags:", 8) == 0) released += (double)release_if_clean(&m, line + 7);
      else if ((line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f')) begin_mapping(&m, line);
    }
    fclose(smaps);
  }
  napi_value result;
  napi_create_double(env, released, &result);
  return result;
}

void register_file_pages(napi_env env, napi_value exports) {
  const napi_property_descriptor functions[] = {
      BERTH_FUNCTION("releaseFilePages", js_release_file_pages),
  };
  BERTH_EXPORT(env, exports, functions);
}
