// The libpq client API, imported only by SwapPostgres.
#ifndef SWAP_CLIBPQ_SHIM_H
#define SWAP_CLIBPQ_SHIM_H

#include <libpq-fe.h>

#endif
