// The hiredis synchronous API, imported only by SwapRedis.
#ifndef SWAP_CHIREDIS_SHIM_H
#define SWAP_CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>

#endif
