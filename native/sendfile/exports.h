/* One way for each file of the addon to export its functions: a table of these, then one
   napi_define_properties call. Writable and configurable like napi_set_named_property made them
   (test/http/zero-copy.test.ts wraps addon.sendfile). */
#ifndef BERTH_EXPORTS_H
#define BERTH_EXPORTS_H
#include <node_api.h>

#define BERTH_FUNCTION(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_default_jsproperty, NULL}
#define BERTH_EXPORT(env, exports, table) napi_define_properties(env, exports, sizeof(table) / sizeof((table)[0]), table)

#endif
