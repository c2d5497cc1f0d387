/* Stand-in for the Apple SDK's stdlib.h (see TargetConditionals.h here). */
#pragma once
#include <stddef.h>
void abort(void);
void *malloc(size_t);
void free(void *);
