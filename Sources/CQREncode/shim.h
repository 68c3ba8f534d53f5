#ifndef MFA_CQRENCODE_SHIM_H
#define MFA_CQRENCODE_SHIM_H
#include <qrencode.h>
#endif
