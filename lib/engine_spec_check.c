/*
 * engine_spec_check.c: the checks every container create goes through in
 * every engine driver, before any of the spec becomes JSON
 * (engine_spec_check.h).
 */
#include "lib/engine_spec_check.h"

#include "lib/validate.h"

#include <stdint.h>
#include <stdio.h>

/* Nesting of the messages checked (ContainerSpec -> mounts -> ...): 2
 * today. */
#define MSG_DEPTH_MAX 4

/*
 * Every string in message `m`, at any depth, must be UTF-8: jansson
 * turns any other into NULL and the set or append that takes it then
 * quietly does nothing, so a dropped argv entry or env variable would
 * change what the container runs instead of failing the create. The
 * walk goes by the generated descriptor, so a field added to the proto
 * is checked without a line here. Messages name the field (its proto
 * path, "mounts[1].source"), never the value: env values may be secrets.
 */
static int check_msg(const ProtobufCMessage *m, const char *path, int depth,
                     struct berth_err *err)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	if (depth > MSG_DEPTH_MAX)
		return berth_err_set(err, BERTH_EINVAL, "%s: nested too deep",
		                     path);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *base = (const char *)m + f->offset;
		bool rep = f->label == PROTOBUF_C_LABEL_REPEATED;
		size_t n = rep
		    ? *(const size_t *)((const char *)m + f->quantifier_offset)
		    : 1;
		char sub[96];
		int rv;

		/* A oneof member that is not the chosen one holds another
		 * member's bytes. */
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0
		    && *(const uint32_t *)((const char *)m
		                           + f->quantifier_offset)
		        != f->id)
			continue;
		for (size_t j = 0; j < n; j++) {
			if (rep)
				snprintf(sub, sizeof(sub), "%s%s%s[%zu]", path,
				         path[0] != '\0' ? "." : "", f->name,
				         j);
			else
				snprintf(sub, sizeof(sub), "%s%s%s", path,
				         path[0] != '\0' ? "." : "", f->name);
			if (f->type == PROTOBUF_C_TYPE_STRING) {
				const char *v = rep
				    ? (*(char *const *const *)base)[j]
				    : *(const char *const *)base;

				if (!berth_utf8_valid(v))
					return berth_err_set(
					    err, BERTH_EINVAL,
					    "%s: must be UTF-8", sub);
			} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
				const ProtobufCMessage *c = rep
				    ? (*(const ProtobufCMessage *const *const *)
				           base)[j]
				    : *(const ProtobufCMessage *const *)base;

				if (c == NULL)
					continue;
				rv = check_msg(c, sub, depth + 1, err);
				if (rv != 0)
					return rv;
			}
		}
	}
	return 0;
}

int berth_check_utf8_message(const ProtobufCMessage *m, struct berth_err *err)
{
	return check_msg(m, "", 0, err);
}

int berth_engine_check_create(const Berth__V1__ContainerSpec *spec,
                              const Berth__V1__KeyValue *const *labels,
                              size_t nlabels, struct berth_err *err)
{
	char field[48];
	int rv;

	rv = check_msg(&spec->base, "", 0, err);
	for (size_t i = 0; rv == 0 && i < nlabels; i++)
		if (!berth_utf8_valid(labels[i]->key)
		    || !berth_utf8_valid(labels[i]->value))
			rv = berth_err_set(err, BERTH_EINVAL,
			                   "labels[%zu]: must be UTF-8", i);
	for (size_t i = 0; rv == 0 && i < spec->n_env; i++) {
		snprintf(field, sizeof(field), "env[%zu].key", i);
		rv = berth_validate_env_key(field, spec->env[i]->key, err);
	}
	return rv;
}
