/*
 * streams.c: the runtime's open output streams (streams.h).
 * STUB until its owner lands it.
 */
#include "services/runtime/streams.h"

#include "lib/alloc.h"

#include <stdlib.h>

struct runtime_streams {
	int unused;
};

struct runtime_streams *runtime_streams_new(void)
{
	return berth_calloc(1, sizeof(struct runtime_streams));
}

void runtime_streams_free(struct runtime_streams *ss)
{
	free(ss);
}
