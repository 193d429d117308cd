/*
 * memoryPressure(): tells V8 memory is critically short, which makes it run a memory-reducing full
 * collection now (src/http/idle-trim.ts).
 *
 * Why not gc({ type: 'major' }): after 32 concurrent uploads, the batch buffers and body chunks of
 * finished requests stayed alive through any number of ordinary full collections (28-38 MiB of
 * ArrayBuffers, counted with a FinalizationRegistry) and were freed only by V8's memory-reducing
 * collection, which its memory reducer runs on its own only some 8-10 s later, after which nothing
 * gives glibc's freed pages back. V8 offers that collection to embedders only through its C++ API.
 * MemoryPressureNotification(kCritical) runs one or two such collections; LowMemoryNotification
 * runs up to seven, which also threw away the compiled code of every function not running.
 */
#include <node_api.h>
#include <v8.h>

static napi_value js_memory_pressure(napi_env env, napi_callback_info info) {
  (void)info;
  v8::Isolate *isolate = v8::Isolate::GetCurrent();
  if (isolate != nullptr) isolate->MemoryPressureNotification(v8::MemoryPressureLevel::kCritical);
  napi_value result;
  napi_get_boolean(env, isolate != nullptr, &result);
  return result;
}

extern "C" void register_low_memory(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "memoryPressure", NAPI_AUTO_LENGTH, js_memory_pressure, nullptr, &fn);
  napi_set_named_property(env, exports, "memoryPressure", fn);
}
