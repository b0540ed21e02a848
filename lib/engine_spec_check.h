/*
 * engine_spec_check.h: what every engine driver checks in a container
 * create before any of it becomes JSON for the engine.
 *
 * jansson turns a string that is not UTF-8 into NULL, and the set or
 * append that takes it then quietly does nothing: a dropped argv entry
 * or env variable would change what the container runs instead of
 * failing the create. Messages name the field (its proto path,
 * "mounts[1].source"), never the value: env values may be secrets.
 */
#ifndef BERTH_LIB_ENGINE_SPEC_CHECK_H
#define BERTH_LIB_ENGINE_SPEC_CHECK_H

#include "lib/error.h"

#include "berth/v1/runtime.pb-c.h"

#include <stddef.h>

/*
 * Every string in `m`, at any depth, is UTF-8. The walk goes by the
 * generated descriptor, so a field added to the proto is checked
 * without a line of code. BERTH_EINVAL naming the field.
 */
int berth_check_utf8_message(const ProtobufCMessage *m, struct berth_err *err);

/*
 * The create checks: every string of `spec` UTF-8, berth's `labels`
 * too, and env keys as the runtime allows them ([A-Za-z_][A-Za-z0-9_]*:
 * a key with '=' would set another variable than the one named).
 * BERTH_EINVAL naming the field.
 */
int berth_engine_check_create(const Berth__V1__ContainerSpec *spec,
                              const Berth__V1__KeyValue *const *labels,
                              size_t nlabels, struct berth_err *err);

#endif
