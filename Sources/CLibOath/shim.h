#ifndef MFA_CLIBOATH_SHIM_H
#define MFA_CLIBOATH_SHIM_H
#include <liboath/oath.h>
#endif
