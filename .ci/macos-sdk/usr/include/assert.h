/* Stand-in for the Apple SDK's assert.h (see TargetConditionals.h here). */
#pragma once
#define assert(e) ((void)0)
