/*
 * freeNow(arrayBuffer) -> boolean: detaches `arrayBuffer`, which frees the memory behind it at
 * once when nothing else shares it, and makes every view on it empty. False when V8 refuses
 * (not detachable).
 *
 * Why: an ArrayBuffer's memory goes back only when a garbage collection finds its JS object
 * dead. Upload bodies arrive as one Buffer per socket read (a copy made by Node's HTTP parser),
 * each dead as soon as its bytes are copied into a batch, and batch buffers live as long as an
 * append, long enough to be in the old generation, which only a full collection sweeps. Under 32
 * pushes at once that garbage was 8-20 MiB of the server's RSS (src/storage/drivers/file-appender.ts
 * says where it is freed). Detaching returns it to malloc right away, where the next read's
 * buffer of the same size reuses it.
 */
#include <node_api.h>
#include "exports.h"

static napi_value js_free_now(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool is_array_buffer = false;
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_is_arraybuffer(env, argv[0], &is_array_buffer) != napi_ok || !is_array_buffer) {
    napi_throw_type_error(env, NULL, "freeNow(arrayBuffer)");
    return NULL;
  }
  /* Not detachable (napi_detachable_arraybuffer_expected) is an answer, not an exception. */
  napi_get_boolean(env, napi_detach_arraybuffer(env, argv[0]) == napi_ok, &result);
  return result;
}

void register_free_now(napi_env env, napi_value exports) {
  const napi_property_descriptor functions[] = {
      BERTH_FUNCTION("freeNow", js_free_now),
  };
  BERTH_EXPORT(env, exports, functions);
}
