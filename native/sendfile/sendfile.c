/*
 * Zero-copy blob responses: sendfile(2) from a blob file to a client socket, as Go's net/http
 * (and so registry:2) and nginx do. Node has no sendfile, and copying through user space costs
 * a read and a write per chunk plus the buffers' memory.
 *
 * Each transfer runs on its own thread, not libuv's pool: a slow client can block a transfer
 * for a long time, and parking it on one of libuv's four pool threads would stall every
 * fs call in the process. The thread works on dup()ed descriptors, so if Node closes its socket
 * (client gone, server shutting down) the numbers can never be reused under the transfer.
 *
 * JS API: sendfile(socketFd, fileFd, offset, length, idleTimeoutMs) -> Promise<number>
 * resolves with the bytes sent (== length), rejects with an Error whose `code` is the errno name.
 *
 * Also alignmentOffset(buffer, alignment) -> number: where the first address aligned to
 * `alignment` lies in a Buffer, for O_DIRECT upload writes (src/storage/drivers/direct-io.ts).
 * JavaScript cannot choose where a Buffer's bytes live, and O_DIRECT needs the address aligned
 * to the block size.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include "exports.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>
#include <malloc.h>
#include <dirent.h>
#include <sched.h>

typedef struct {
  int out_fd;
  int in_fd;
  off_t offset;
  uint64_t remaining;
  uint64_t sent;
  int idle_timeout_ms;
  int err;
  napi_deferred deferred;
  napi_threadsafe_function done;
} transfer_t;

/* Poll in slices so an idle client is noticed without a timer per transfer. */
#define POLL_SLICE_MS 1000
/* Bytes per sendfile call. Measured on loopback, 1 GiB from the page cache (kernel 6.18, ext4 with
   large folios; docs/benchmark.md, "Blob GET and sendfile"): 1 GiB per call 1.65-1.76 GB/s, 4 MiB
   1.87-1.90, 1 MiB 1.88-2.07, 256 KiB 2.15-2.75, 128 KiB 2.60-3.32, 64 KiB 1.88-1.91; distribution
   2.1-2.5 in the same runs. nginx caps its calls too (sendfile_max_chunk, 2m). */
#define MAX_CALL ((uint64_t)128 << 10)

static void run_transfer(transfer_t *t) {
  int idle_ms = 0;
  while (t->remaining > 0) {
    size_t count = (size_t)(t->remaining < MAX_CALL ? t->remaining : MAX_CALL);
    ssize_t n = sendfile(t->out_fd, t->in_fd, &t->offset, count);
    if (n > 0) {
      t->remaining -= (uint64_t)n;
      t->sent += (uint64_t)n;
      idle_ms = 0;
      continue;
    }
    if (n == 0) { /* the file is shorter than promised: never send a short body silently */
      t->err = EIO;
      return;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) {
      t->err = errno;
      return;
    }
    /* Socket buffer full: wait until the client has read some of it. */
    struct pollfd p = { .fd = t->out_fd, .events = POLLOUT, .revents = 0 };
    int r = poll(&p, 1, POLL_SLICE_MS);
    if (r < 0 && errno != EINTR) {
      t->err = errno;
      return;
    }
    if (r == 0) {
      idle_ms += POLL_SLICE_MS;
      if (t->idle_timeout_ms > 0 && idle_ms >= t->idle_timeout_ms) {
        t->err = ETIMEDOUT;
        return;
      }
    }
    /* POLLERR/POLLHUP: the next sendfile reports the error. */
  }
}

static void *thread_main(void *arg) {
  transfer_t *t = (transfer_t *)arg;
  run_transfer(t);
  close(t->out_fd);
  close(t->in_fd);
  /* Once queued, the JS thread may run finish_on_js_thread and free t at any moment: keep the
     handle in a local, never touch t after the call. */
  napi_threadsafe_function done = t->done;
  napi_call_threadsafe_function(done, t, napi_tsfn_blocking);
  napi_release_threadsafe_function(done, napi_tsfn_release);
  return NULL;
}

static const char *errno_code(int e) {
  switch (e) {
    case EPIPE: return "EPIPE";
    case ECONNRESET: return "ECONNRESET";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EIO: return "EIO";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case ENOTCONN: return "ENOTCONN";
    case ENOMEM: return "ENOMEM";
    default: return "ESENDFILE";
  }
}

static void finish_on_js_thread(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)js_cb;
  (void)context;
  transfer_t *t = (transfer_t *)data;
  if (env != NULL) {
    if (t->err == 0) {
      napi_value sent;
      napi_create_double(env, (double)t->sent, &sent);
      napi_resolve_deferred(env, t->deferred, sent);
    } else {
      napi_value code, msg, error, sent;
      napi_create_string_utf8(env, errno_code(t->err), NAPI_AUTO_LENGTH, &code);
      napi_create_string_utf8(env, strerror(t->err), NAPI_AUTO_LENGTH, &msg);
      napi_create_error(env, code, msg, &error);
      napi_create_double(env, (double)t->sent, &sent);
      napi_set_named_property(env, error, "bytesSent", sent);
      napi_reject_deferred(env, t->deferred, error);
    }
  }
  free(t);
}

static napi_value throw_error(napi_env env, const char *code, const char *msg) {
  napi_throw_error(env, code, msg);
  return NULL;
}

static napi_value js_sendfile(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5) {
    return throw_error(env, "EINVAL", "sendfile(socketFd, fileFd, offset, length, idleTimeoutMs)");
  }
  int32_t out_fd, in_fd, idle;
  double offset, length;
  if (napi_get_value_int32(env, argv[0], &out_fd) != napi_ok || napi_get_value_int32(env, argv[1], &in_fd) != napi_ok ||
      napi_get_value_double(env, argv[2], &offset) != napi_ok || napi_get_value_double(env, argv[3], &length) != napi_ok ||
      napi_get_value_int32(env, argv[4], &idle) != napi_ok || out_fd < 0 || in_fd < 0 || offset < 0 || length < 0) {
    return throw_error(env, "EINVAL", "sendfile: bad arguments");
  }

  transfer_t *t = calloc(1, sizeof(transfer_t));
  if (t == NULL) return throw_error(env, "ENOMEM", "sendfile: out of memory");
  t->out_fd = fcntl(out_fd, F_DUPFD_CLOEXEC, 0);
  t->in_fd = fcntl(in_fd, F_DUPFD_CLOEXEC, 0);
  if (t->out_fd < 0 || t->in_fd < 0) {
    int e = errno;
    if (t->out_fd >= 0) close(t->out_fd);
    if (t->in_fd >= 0) close(t->in_fd);
    free(t);
    return throw_error(env, errno_code(e), strerror(e));
  }
  t->offset = (off_t)offset;
  t->remaining = (uint64_t)length;
  t->idle_timeout_ms = idle;

  napi_value promise, name;
  napi_create_promise(env, &t->deferred, &promise);
  napi_create_string_utf8(env, "berth.sendfile", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, NULL, finish_on_js_thread, &t->done) != napi_ok) {
    close(t->out_fd);
    close(t->in_fd);
    free(t);
    return throw_error(env, "ESENDFILE", "sendfile: cannot create completion callback");
  }

  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  /* The loop needs almost no stack; keep thousands of concurrent pulls cheap. */
  pthread_attr_setstacksize(&attr, 64 * 1024);
  pthread_t thread;
  int rc = pthread_create(&thread, &attr, thread_main, t);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    napi_release_threadsafe_function(t->done, napi_tsfn_abort);
    close(t->out_fd);
    close(t->in_fd);
    /* the promise is dropped unsettled; throwing tells the caller to fall back */
    free(t);
    return throw_error(env, errno_code(rc), strerror(rc));
  }
  return promise;
}

/* alignmentOffset(buffer, alignment) -> number: how many bytes into `buffer` its first address
   aligned to `alignment` lies. JavaScript cannot choose where a Buffer's bytes live, but it can
   allocate `alignment` bytes more and use the aligned part (src/storage/drivers/direct-io.ts).
   Why not memory allocated here, as before: Node frees an external buffer's memory only in a
   callback queued by the collection that finds it dead (measured: 40 MiB of them needed a second
   collection), while an ordinary Buffer's memory goes back in the collection itself. */
static napi_value js_alignment_offset(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  void *data = NULL;
  size_t size = 0;
  int64_t alignment = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_buffer_info(env, argv[0], &data, &size) != napi_ok ||
      napi_get_value_int64(env, argv[1], &alignment) != napi_ok)
    return throw_error(env, "EINVAL", "alignmentOffset(buffer, alignment)");
  if (alignment <= 0 || (alignment & (alignment - 1)) != 0) return throw_error(env, "EINVAL", "alignment must be a power of two");
  uintptr_t address = (uintptr_t)data;
  uintptr_t offset = (uintptr_t)(-(intptr_t)address) & (uintptr_t)(alignment - 1);
  napi_value result;
  napi_create_int64(env, (int64_t)offset, &result);
  return result;
}

/* tuneMalloc(mmapThreshold, trimThreshold[, arenaMax]): fixed glibc malloc thresholds and, when
   given, a cap on the number of arenas (see src/http/server-heap.ts). */
static napi_value js_tune_malloc(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int64_t mmap_threshold = 0, trim_threshold = 0, arena_max = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int64(env, argv[0], &mmap_threshold) != napi_ok || napi_get_value_int64(env, argv[1], &trim_threshold) != napi_ok ||
      (argc >= 3 && napi_get_value_int64(env, argv[2], &arena_max) != napi_ok))
    return throw_error(env, "EINVAL", "tuneMalloc(mmapThreshold, trimThreshold[, arenaMax])");
  int ok = mallopt(M_MMAP_THRESHOLD, (int)mmap_threshold) && mallopt(M_TRIM_THRESHOLD, (int)trim_threshold);
  if (arena_max > 0) ok = ok && mallopt(M_ARENA_MAX, (int)arena_max);
  napi_value result;
  napi_get_boolean(env, ok != 0, &result);
  return result;
}

/* trimMalloc() -> boolean: malloc_trim(0), which gives the free pages of every arena back to the
   kernel, not only the top of the main heap (src/http/idle-trim.ts). */
static napi_value js_trim_malloc(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_get_boolean(env, malloc_trim(0) != 0, &result);
  return result;
}

/* idleScheduling() -> number: SCHED_IDLE for every thread of this process (threads made later
   inherit it), for maintenance jobs such as `berth gc` beside live registries: any runnable
   normal task preempts them at once, which nice 19 does not promise. Linux applies a policy per
   thread, hence the walk over /proc/self/task. Returns how many threads took it. */
static napi_value js_idle_scheduling(napi_env env, napi_callback_info info) {
  (void)info;
  int changed = 0;
  DIR *dir = opendir("/proc/self/task");
  if (dir) {
    struct dirent *entry;
    struct sched_param param = {.sched_priority = 0};
    while ((entry = readdir(dir)) != NULL) {
      pid_t tid = (pid_t)atoi(entry->d_name);
      if (tid > 0 && sched_setscheduler(tid, SCHED_IDLE, &param) == 0) changed++;
    }
    closedir(dir);
  }
  napi_value result;
  napi_create_int32(env, changed, &result);
  return result;
}

void register_sha256(napi_env env, napi_value exports);     /* sha256.c */
void register_file_pages(napi_env env, napi_value exports); /* file-pages.c */
void register_free_now(napi_env env, napi_value exports);   /* free-now.c */

static napi_value init(napi_env env, napi_value exports) {
  register_sha256(env, exports);
  register_file_pages(env, exports);
  register_free_now(env, exports);
  const napi_property_descriptor functions[] = {
      BERTH_FUNCTION("tuneMalloc", js_tune_malloc),
      BERTH_FUNCTION("idleScheduling", js_idle_scheduling),
      BERTH_FUNCTION("trimMalloc", js_trim_malloc),
      BERTH_FUNCTION("sendfile", js_sendfile),
      BERTH_FUNCTION("alignmentOffset", js_alignment_offset),
  };
  BERTH_EXPORT(env, exports, functions);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
