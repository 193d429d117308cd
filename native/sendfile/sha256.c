/*
 * SHA-256 of upload batches off the event loop (src/storage/drivers/batch-hasher.ts).
 *
 * Why: on an upload the event loop receives the body and SHA-256 takes 0.65 CPU-s per GiB of
 * it (SHA-NI); done on the loop, receiving and hashing take turns and a 1 GiB upload cannot pass
 * about 1 GB/s here whatever the disk does. Hashing each 1-4 MiB batch on libuv's pool, while the
 * loop receives the next one and another pool thread writes it, lets the three overlap.
 *
 * The OpenSSL used is Node's own: the node binary exports its EVP functions (official builds link
 * OpenSSL statically; distribution builds load libcrypto, whose symbols are global too). They are
 * looked up at run time, so an addon loaded into a Node without them still loads and reports
 * `sha256Available() === false`; berth then hashes on the loop as before.
 *
 * JS API (one hash state per upload; the caller never runs two updates of one state at once):
 *   sha256Create() -> external      a fresh state
 *   sha256Update(state, buffer, length) -> Promise<void>   hashes buffer[0, length) on the pool
 *   sha256UpdateSync(state, buffer, length)   the same on the calling thread (small pieces, where
 *                                   a trip to the pool would cost more than the hashing)
 *   sha256Digest(state) -> string   hex digest of the bytes so far; the state goes on
 */
#define _GNU_SOURCE
#include <node_api.h>
#include "exports.h"
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct evp_md_ctx EVP_MD_CTX;
typedef struct evp_md EVP_MD;

static struct {
  int loaded;
  EVP_MD_CTX *(*ctx_new)(void);
  void (*ctx_free)(EVP_MD_CTX *);
  int (*ctx_copy)(EVP_MD_CTX *, const EVP_MD_CTX *);
  const EVP_MD *(*sha256)(void);
  int (*init)(EVP_MD_CTX *, const EVP_MD *, void *);
  int (*update)(EVP_MD_CTX *, const void *, size_t);
  int (*final)(EVP_MD_CTX *, unsigned char *, unsigned int *);
} evp;

static int evp_available(void) {
  if (evp.loaded == 0) {
    evp.ctx_new = (EVP_MD_CTX * (*)(void)) dlsym(RTLD_DEFAULT, "EVP_MD_CTX_new");
    evp.ctx_free = (void (*)(EVP_MD_CTX *))dlsym(RTLD_DEFAULT, "EVP_MD_CTX_free");
    evp.ctx_copy = (int (*)(EVP_MD_CTX *, const EVP_MD_CTX *))dlsym(RTLD_DEFAULT, "EVP_MD_CTX_copy_ex");
    evp.sha256 = (const EVP_MD *(*)(void))dlsym(RTLD_DEFAULT, "EVP_sha256");
    evp.init = (int (*)(EVP_MD_CTX *, const EVP_MD *, void *))dlsym(RTLD_DEFAULT, "EVP_DigestInit_ex");
    evp.update = (int (*)(EVP_MD_CTX *, const void *, size_t))dlsym(RTLD_DEFAULT, "EVP_DigestUpdate");
    evp.final = (int (*)(EVP_MD_CTX *, unsigned char *, unsigned int *))dlsym(RTLD_DEFAULT, "EVP_DigestFinal_ex");
    evp.loaded = (evp.ctx_new && evp.ctx_free && evp.ctx_copy && evp.sha256 && evp.init && evp.update && evp.final) ? 1 : -1;
  }
  return evp.loaded == 1;
}

typedef struct {
  EVP_MD_CTX *ctx;
  /* Set while an update runs on the pool: a second one at the same time would interleave bytes. */
  int busy;
} hash_state_t;

typedef struct {
  hash_state_t *state;
  /* Both held until the job is done: JavaScript may drop them meanwhile (a failed upload). */
  napi_ref state_ref;
  napi_ref buffer_ref;
  const uint8_t *data;
  size_t length;
  int ok;
  napi_deferred deferred;
  napi_async_work work;
} update_job_t;

static napi_value fail(napi_env env, const char *code, const char *msg) {
  napi_throw_error(env, code, msg);
  return NULL;
}

static void free_state(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  hash_state_t *state = data;
  evp.ctx_free(state->ctx);
  free(state);
}

static napi_value js_available(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_get_boolean(env, evp_available(), &result);
  return result;
}

static napi_value js_create(napi_env env, napi_callback_info info) {
  (void)info;
  if (!evp_available()) return fail(env, "ENOTSUP", "this Node exports no OpenSSL digest functions");
  hash_state_t *state = calloc(1, sizeof(*state));
  if (!state) return fail(env, "ENOMEM", "out of memory");
  state->ctx = evp.ctx_new();
  if (!state->ctx || evp.init(state->ctx, evp.sha256(), NULL) != 1) {
    if (state->ctx) evp.ctx_free(state->ctx);
    free(state);
    return fail(env, "EIO", "SHA-256 could not be initialised");
  }
  napi_value external;
  if (napi_create_external(env, state, free_state, NULL, &external) != napi_ok) {
    evp.ctx_free(state->ctx);
    free(state);
    return fail(env, "ENOMEM", "out of memory");
  }
  return external;
}

static hash_state_t *state_of(napi_env env, napi_value value) {
  void *data = NULL;
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external) return NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok) return NULL;
  return data;
}

static void run_update(napi_env env, void *data) {
  (void)env;
  update_job_t *job = data;
  job->ok = evp.update(job->state->ctx, job->data, job->length) == 1;
}

static void finish_update(napi_env env, napi_status status, void *data) {
  update_job_t *job = data;
  job->state->busy = 0;
  napi_delete_reference(env, job->buffer_ref);
  napi_delete_reference(env, job->state_ref);
  napi_delete_async_work(env, job->work);
  if (status == napi_ok && job->ok) {
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, job->deferred, undefined);
  } else {
    napi_value message, error;
    napi_create_string_utf8(env, "SHA-256 update failed", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &error);
    napi_reject_deferred(env, job->deferred, error);
  }
  free(job);
}

/* Parses (state, buffer, length); NULL after throwing. */
static hash_state_t *fail_state(napi_env env, const char *code, const char *msg) {
  napi_throw_error(env, code, msg);
  return NULL;
}

static hash_state_t *update_args(napi_env env, napi_callback_info info, napi_value *argv, const uint8_t **data, size_t *length) {
  size_t argc = 3;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) return fail_state(env, "EINVAL", "sha256Update(state, buffer, length)");
  hash_state_t *state = state_of(env, argv[0]);
  if (!state) return fail_state(env, "EINVAL", "not a SHA-256 state");
  if (state->busy) return fail_state(env, "EBUSY", "an update of this state is still running");
  void *bytes = NULL;
  size_t size = 0;
  int64_t n = 0;
  if (napi_get_buffer_info(env, argv[1], &bytes, &size) != napi_ok) return fail_state(env, "EINVAL", "not a Buffer");
  if (napi_get_value_int64(env, argv[2], &n) != napi_ok || n < 0 || (uint64_t)n > size) return fail_state(env, "EINVAL", "bad length");
  *data = bytes;
  *length = (size_t)n;
  return state;
}

static napi_value js_update(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  const uint8_t *data = NULL;
  size_t length = 0;
  hash_state_t *state = update_args(env, info, argv, &data, &length);
  if (!state) return NULL;
  update_job_t *job = calloc(1, sizeof(*job));
  if (!job) return fail(env, "ENOMEM", "out of memory");
  job->state = state;
  job->data = data;
  job->length = length;
  napi_value promise, name;
  napi_create_promise(env, &job->deferred, &promise);
  napi_create_reference(env, argv[0], 1, &job->state_ref);
  napi_create_reference(env, argv[1], 1, &job->buffer_ref);
  napi_create_string_utf8(env, "berth:sha256", NAPI_AUTO_LENGTH, &name);
  if (napi_create_async_work(env, NULL, name, run_update, finish_update, job, &job->work) != napi_ok || napi_queue_async_work(env, job->work) != napi_ok) {
    napi_delete_reference(env, job->buffer_ref);
    napi_delete_reference(env, job->state_ref);
    free(job);
    return fail(env, "EIO", "could not queue the SHA-256 update");
  }
  state->busy = 1;
  return promise;
}

static napi_value js_update_sync(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  const uint8_t *data = NULL;
  size_t length = 0;
  hash_state_t *state = update_args(env, info, argv, &data, &length);
  if (!state) return NULL;
  if (evp.update(state->ctx, data, length) != 1) return fail(env, "EIO", "SHA-256 update failed");
  return NULL;
}

static napi_value js_digest(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return fail(env, "EINVAL", "sha256Digest(state)");
  hash_state_t *state = state_of(env, argv[0]);
  if (!state) return fail(env, "EINVAL", "not a SHA-256 state");
  if (state->busy) return fail(env, "EBUSY", "an update of this state is still running");
  EVP_MD_CTX *copy = evp.ctx_new();
  unsigned char md[32];
  unsigned int md_len = 0;
  int ok = copy && evp.ctx_copy(copy, state->ctx) == 1 && evp.final(copy, md, &md_len) == 1 && md_len == 32;
  if (copy) evp.ctx_free(copy);
  if (!ok) return fail(env, "EIO", "SHA-256 digest failed");
  char hex[65];
  for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
  napi_value result;
  napi_create_string_utf8(env, hex, 64, &result);
  return result;
}

void register_sha256(napi_env env, napi_value exports) {
  const napi_property_descriptor functions[] = {
      BERTH_FUNCTION("sha256Available", js_available),
      BERTH_FUNCTION("sha256Create", js_create),
      BERTH_FUNCTION("sha256Update", js_update),
      BERTH_FUNCTION("sha256UpdateSync", js_update_sync),
      BERTH_FUNCTION("sha256Digest", js_digest),
  };
  BERTH_EXPORT(env, exports, functions);
}
